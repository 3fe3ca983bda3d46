"""Training curves, shared by the three parts: how a run went, at a glance.

A curve panel shows one line per run (a restart); the run that was kept is drawn
strong and the others faint, so the reader sees both the spread and the result. A run
that stopped early has NaN after its last value: its line ends there with a dot.
"""
import numpy as np

# Above this many runs the faint ones share one legend entry.
MAX_NAMED_RUNS = 10
KEPT_COLOUR = 'black'


def run_colour(i, count):
    """The colour of run i of `count`: tab10 while each run is named, else grey."""
    if count > MAX_NAMED_RUNS:
        return '#8c8c8c'
    return f'C{i % 10}'


def draw_runs(ax, x, values, kept=None, name='restart', labels=None, strong_lw=2.0,
              kept_note='kept'):
    """Plot values (K, L) against x (L,): run `kept` (or the only run) strong, in front.

    `labels` names the runs in the legend (default '{name} i'); the kept one gets
    ' ({kept_note})'. Returns the line of the kept run.
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    x = np.asarray(x, dtype=float)
    count = len(values)
    kept = 0 if count == 1 else kept
    labels = labels or [f'{name} {i}' for i in range(count)]
    strong_line = None
    for i, ys in enumerate(values):
        strong = i == kept
        if count == 1:
            label = None
        elif strong:
            label = f'{labels[i]} ({kept_note})'
        elif count > MAX_NAMED_RUNS:
            label = f'other {name}s' if i == (1 if kept == 0 else 0) else None
        else:
            label = labels[i]
        colour = KEPT_COLOUR if strong else run_colour(i, count)
        line, = ax.plot(x, ys, color=colour, lw=strong_lw if strong else 1.0,
                        alpha=1.0 if strong else 0.6, zorder=3 if strong else 2, label=label)
        finite = np.nonzero(np.isfinite(ys))[0]
        if len(finite) and finite[-1] < len(ys) - 1:       # stopped before the end
            ax.plot(x[finite[-1]], ys[finite[-1]], 'o', color=colour, ms=4,
                    zorder=line.get_zorder())
        if strong:
            strong_line = line
    return strong_line


def log_scale_if_positive(ax, values, span=20.0):
    """A log y axis when every value is positive and they span more than `span` times:
    a loss that falls from 0.7 to 0.001 is then readable along its whole way."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > span:
        from matplotlib.ticker import FuncFormatter
        ax.set_yscale('log')
        # Plain numbers (0.05, not 5x10^-2); between powers of ten only 2 and 5.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f'{v:g}'))
        ax.yaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f'{v:g}' if f'{v:.0e}'[0] in '25' else ''))


def legend_if_any(ax, **kwargs):
    """A legend when some artist has a label (a single run has none)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)
