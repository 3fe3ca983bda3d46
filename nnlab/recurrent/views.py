"""Pictures of recurrent hidden states: pair scatters, 3-D views and rotation, the
counter-analysis panels and the training curve (the state machine is in diagrams.py).

Every function returns a matplotlib figure (or writes a GIF); saving and naming is the
caller's job (seq_plot.py).
"""
import numpy as np
from matplotlib.ticker import MaxNLocator

from nnlab.curves import draw_runs, log_scale_if_positive
from nnlab.plotting import plt, save_frames_gif

CMAP = 'jet'
# The 3-D pictures' viewpoint: (elevation, azimuth) in degrees.
PERSPECTIVE = (25, -60)
# Which unit each still view looks along (None: the perspective view).
VIEW_ALONG = [None, 2, 1, 0]
# The strings --generalise shows: the largest n predicted right, the first one wrong.
OUTCOME_COLOURS = {'right': 'tab:green', 'wrong': 'tab:red'}


def _bar(fig, sc, axes, max_state, **kwargs):
    """The colour bar of the language's states (every state ticked when they are few)."""
    bar = fig.colorbar(sc, ax=axes, **kwargs)
    bar.set_label('state')
    if max_state <= 20:
        bar.set_ticks(range(0, max_state + 1))


def _limits(values, pad=0.05):
    lo, hi = float(np.min(values)), float(np.max(values))
    if lo >= -1.0 and hi <= 1.0:         # tanh units: show the whole square
        return -1.05, 1.05
    span = max(hi - lo, 1e-6)
    return lo - pad * span, hi + pad * span


def pair_scatter(points, colours, max_state, j, k, initial=None, title='', prefix='h',
                 figsize=(6, 5)):
    """Units j and k of every point, coloured by state (jet, 0..max_state)."""
    fig, ax = plt.subplots(figsize=figsize)
    sc = ax.scatter(points[:, j], points[:, k], c=colours, cmap=CMAP, vmin=0, vmax=max_state,
                    s=14, linewidths=0)
    _bar(fig, sc, ax, max_state, pad=0.02)
    if initial is not None:
        ax.plot(initial[j], initial[k], 'kx', markersize=12, markeredgewidth=2.5,
                label='initial state', zorder=5)
        # Below the axes, right of the unit's name: inside, it covered points.
        ax.legend(loc='upper right', bbox_to_anchor=(1.0, -0.06), fontsize=8,
                  frameon=False, borderaxespad=0)
    both = points[:, [j, k]] if initial is None else np.vstack([points[:, [j, k]],
                                                                initial[[j, k]]])
    ax.set_xlim(*_limits(both[:, 0]))
    ax.set_ylim(*_limits(both[:, 1]))
    ax.set_xlabel(f'{prefix}{j}')
    ax.set_ylabel(f'{prefix}{k}')
    for axis in (ax.xaxis, ax.yaxis):       # -1.00-0.75-0.50... ran together
        axis.set_major_locator(MaxNLocator(6))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


def _scatter3d(ax, points, colours, max_state, initial, prefix, size=10, font=10):
    sc = ax.scatter(points[:, 0], points[:, 1], points[:, 2], c=colours, cmap=CMAP,
                    vmin=0, vmax=max_state, s=size, depthshade=False, linewidths=0)
    if initial is not None:
        ax.scatter([initial[0]], [initial[1]], [initial[2]], c='k', marker='x', s=80,
                   linewidths=2.5)
    for axis, setter in zip(range(3), (ax.set_xlim, ax.set_ylim, ax.set_zlim)):
        setter(*_limits(points[:, axis]))
    for i, axis in enumerate((ax.xaxis, ax.yaxis, ax.zaxis)):
        # Four ticks per axis, labels set off from the frame and the unit's name set
        # off from the labels: matplotlib's defaults run them into each other.
        axis.set_major_locator(MaxNLocator(4))
        axis.set_tick_params(labelsize=font - 1, pad=1)
        axis.set_label_text(f'{prefix}{i}', fontsize=font)
        axis.labelpad = 4
    return sc


def scatter_3d(points, colours, max_state, initial=None, title='', prefix='h'):
    """Units 0, 1, 2 in 3-D from one viewpoint."""
    fig = plt.figure(figsize=(7.5, 6))
    ax = fig.add_subplot(projection='3d')
    sc = _scatter3d(ax, points, colours, max_state, initial, prefix)
    ax.view_init(*PERSPECTIVE)
    _bar(fig, sc, ax, max_state, shrink=0.7, pad=0.08)
    ax.set_title(title)
    return fig


def views_3d(points, colours, max_state, initial=None, title='', prefix='h'):
    """The 3-D scatter in perspective, and looked at along each unit's axis: the other
    two units as a plain 2-D scatter (what an orthographic view shows, with ordinary
    axes), one colour bar for all four."""
    fig = plt.figure(figsize=(10.5, 9))
    grid = fig.add_gridspec(2, 2, left=0.06, right=0.86, bottom=0.06, top=0.9,
                            wspace=0.32, hspace=0.25)
    axes = []
    for i, along in enumerate(VIEW_ALONG):
        cell = grid[i // 2, i % 2]
        if along is None:
            ax = fig.add_subplot(cell, projection='3d')
            sc = _scatter3d(ax, points, colours, max_state, initial, prefix, size=6)
            ax.view_init(*PERSPECTIVE)
            ax.set_box_aspect(None, zoom=0.85)   # keep its h2 label off the next panel
            ax.set_title('perspective', fontsize=11)
        else:
            u, v = [unit for unit in range(3) if unit != along]
            ax = fig.add_subplot(cell)
            # Nearer points (larger along-coordinate, as the 3-D view sees them) on top.
            order = np.argsort(points[:, along], kind='stable')
            ax.scatter(points[order, u], points[order, v], c=colours[order], cmap=CMAP,
                       vmin=0, vmax=max_state, s=6, linewidths=0)
            if initial is not None:
                ax.plot(initial[u], initial[v], 'kx', markersize=10, markeredgewidth=2.5)
            ax.set_xlim(*_limits(points[:, u]))
            ax.set_ylim(*_limits(points[:, v]))
            ax.set_xlabel(f'{prefix}{u}')
            ax.set_ylabel(f'{prefix}{v}')
            ax.grid(alpha=0.3)
            ax.set_title(f'along {prefix}{along}: {prefix}{u} vs {prefix}{v}', fontsize=11)
        axes.append(ax)
    _bar(fig, sc, axes, max_state, fraction=0.03, pad=0.03)
    fig.suptitle(title + ('\n(x: the initial state)' if initial is not None else ''),
                 fontsize=12)
    return fig


def rotation_gif(path, points, colours, max_state, initial=None, title='', prefix='h',
                 frames=24, fps=8):
    """A turn around the vertical axis, 480x480 pixels, as a looping GIF."""
    fig = plt.figure(figsize=(6, 6))
    ax = fig.add_axes((0.03, 0.02, 0.94, 0.9), projection='3d')
    _scatter3d(ax, points, colours, max_state, initial, prefix, size=9, font=12)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):   # white panes: plain areas, small file
        axis.set_pane_color((1.0, 1.0, 1.0, 0.0))
    fig.suptitle(title, fontsize=12, y=0.97)

    def turn(i):
        ax.view_init(PERSPECTIVE[0], PERSPECTIVE[1] + 360.0 * i / frames)

    # The GIF's colours: the states' colours and greys for the frame and the text.
    steps = plt.get_cmap(CMAP)(np.linspace(0, 1, max_state + 1))
    greys = [(g, g, g) for g in np.linspace(0, 1, 16)]
    save_frames_gif(fig, turn, frames, path, fps=fps, dpi=80,
                    palette=[tuple(c[:3]) for c in steps] + greys)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- counter analysis

def explain_figure(units, unit_names, quantities, table, phase, step, title='', seed=0):
    """One panel per quantity: the unit that tracks it best against it, over the
    positions the fit uses, with its R^2 and fitted line(s). Points are coloured by
    phase (the symbol just read); for an alternating unit instead by which of the
    phase's symbols was just read, the 1st, 3rd, 5th ... or the 2nd, 4th ..., each
    group with its own line (`step` counts from 0, so step 0 is the 1st symbol)."""
    from nnlab.recurrent.explain import PHASES, best_unit
    cols = min(3, len(quantities))
    rows = int(np.ceil(len(quantities) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.8 * rows), squeeze=False)
    rng = np.random.default_rng(seed)
    colours = plt.get_cmap('tab10')
    for ax, q in zip(axes.flat, quantities):
        fits = table[q.name]
        best = best_unit(fits)
        x, y = q.values[q.subset], units[q.subset, best]
        ph, odd = phase[q.subset], step[q.subset] % 2
        # Positions share a few integer values: spread them sideways to show how many.
        jitter = rng.uniform(-0.15, 0.15, len(x)) * max(np.ptp(x) / 8, 0.1)
        if fits[best].alternating:
            sym = PHASES[int(np.bincount(ph).argmax())]
            groups = [(odd == 0, f'after the 1st, 3rd, ... {sym}', 'C0', '-'),
                      (odd == 1, f'after the 2nd, 4th, ... {sym}', 'C3', '--')]
        else:
            groups = [(ph == p, f'after {PHASES[p]}', colours(int(p)), None)
                      for p in np.unique(ph)]
        for sel, name, colour, _ in groups:
            ax.scatter(x[sel] + jitter[sel], y[sel], s=5, alpha=0.35, linewidths=0,
                       color=colour, label=name)
        lines = ([(sel, colour, style) for sel, _, colour, style in groups]
                 if fits[best].alternating else [(np.ones(len(x), bool), 'k', '-')])
        for sel, colour, style in lines:
            if sel.sum() > 1 and np.ptp(x[sel]) > 0:
                slope, icept = np.polyfit(x[sel], y[sel], 1)
                xs = np.array([x[sel].min(), x[sel].max()])
                ax.plot(xs, icept + slope * xs, color=colour, linestyle=style, lw=1.4,
                        label=None if fits[best].alternating else 'straight line')
        note = ', alternating' if fits[best].alternating else ''
        ax.set_title(f'{unit_names[best]} vs {q.name}: R$^2$ = {fits[best].r2:.2f}{note}',
                     fontsize=10)
        ax.set_xlabel(f'{q.name} ({q.where})', fontsize=8)
        ax.set_ylabel(unit_names[best])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, markerscale=2, loc='best')
    for ax in list(axes.flat)[len(quantities):]:
        ax.axis('off')
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- training curve

def verdict_statistic(values, window, consistently):
    """Per check, what the course's criterion looks at once training stops there: the
    largest (`consistently`) or the mean of the last `window` values (NaN before)."""
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), np.nan)
    for i in range(window - 1, len(values)):
        recent = values[i - window + 1:i + 1]
        out[i] = recent.max() if consistently else recent.mean()
    return out


def loss_curve(checks, every, threshold, metric, title='', consistently=False, labels=None,
               best=None, window=10):
    """How training went: the metric at every check (`checks`, one list per run, a check
    every `every` examples) against the examples seen, one line per run (`best`
    strong), the language's success threshold drawn and named, and for the best run
    the quantity the verdict compares with it (the largest or the mean of the last
    `window` checks)."""
    length = max(len(c) for c in checks)
    values = np.full((len(checks), length), np.nan)
    for i, run in enumerate(checks):
        values[i, :len(run)] = run
    x = (np.arange(length) + 1) * every / 1000
    best = 0 if best is None or len(checks) == 1 else best
    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    single = len(checks) == 1
    draw_runs(ax, x, values, kept=best, name='run', labels=labels, kept_note='best',
              strong_lw=1.0 if single else 1.6)
    if single:
        ax.get_lines()[0].set_color('C0')
        ax.get_lines()[0].set_label(f'{metric} of the check example'
                                    + (f' ({labels[0]})' if labels else ''))
    rule = (f"{metric} below {threshold} in each of the last {window} checks"
            if consistently else f"mean {metric} of the last {window} checks below "
                                 f"{threshold}")
    statistic = verdict_statistic(values[best], window, consistently)
    who = '' if single else f'{labels[best] if labels else f"run {best}"}: '
    ax.plot(x, statistic, color='C1', lw=2.2, zorder=4,
            label=f"{who}{'largest' if consistently else 'mean'} of the last {window} checks")
    ax.axhline(threshold, color='C3', linestyle='--', lw=1.4, zorder=5,
               label=f'success: {rule}')
    log_scale_if_positive(ax, values, span=10)
    ax.set_xlabel('examples seen (thousands)')
    ax.set_ylabel(f'{metric} (squared error of the\npredicted next-symbol probabilities)')
    ax.set_xlim(0, x[-1] * 1.01)
    ax.grid(alpha=0.3, which='major')
    ax.set_title(title or f'{metric} at each check (one fresh example every {every} examples)',
                 fontsize=11)
    ax.legend(loc='upper center', bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8,
              frameon=False)
    return fig


def _projection(training):
    """Training states (M, H) -> a function to 2-D and the axis names: the units for
    H <= 2, else the two principal axes of the training states."""
    if training.shape[1] == 1:
        return None, None
    if training.shape[1] == 2:
        return (lambda x: x), ('unit 0', 'unit 1')
    centre = training.mean(axis=0)
    _, _, axes = np.linalg.svd(training - centre, full_matrices=False)
    return (lambda x: (x - centre) @ axes[:2].T), ('principal axis 1', 'principal axis 2')


def _trajectories(ax, training, paths, wrong_at, what):
    """Training states as a grey scatter; the chosen strings' states as lines on top."""
    points = np.concatenate(training)
    project, names = _projection(points)
    if project is None:                      # one unit: the state against the step
        for path in training:
            ax.plot(np.arange(1, len(path) + 1), path[:, 0], '.', color='0.75', ms=4)
        for n, (kind, path) in paths.items():
            ax.plot(np.arange(1, len(path) + 1), path[:, 0], '-', color=OUTCOME_COLOURS[kind],
                    lw=1, label=f'n = {n} ({kind})')
            if kind == 'wrong' and wrong_at:
                ax.plot(wrong_at - 1, path[wrong_at - 2, 0], 'kx', ms=10, mew=2)
        ax.set_xlabel('symbols read')
        ax.set_ylabel(f'{what} 0')
    else:
        flat = project(points)
        ax.scatter(flat[:, 0], flat[:, 1], s=8, color='0.7', linewidths=0,
                   label='training strings')
        for n, (kind, path) in paths.items():
            xy = project(path)
            ax.plot(xy[:, 0], xy[:, 1], '.-', color=OUTCOME_COLOURS[kind], lw=0.8, ms=3,
                    label=f'n = {n} ({kind})')
            if kind == 'wrong' and wrong_at:
                # the state that made the first wrong prediction
                ax.plot(*xy[wrong_at - 2], 'kx', ms=10, mew=2, label='first wrong prediction')
        ax.set_xlabel(f'{what}: {names[0]}')
        ax.set_ylabel(f'{what}: {names[1]}')
    ax.legend(fontsize=7, loc='best')
    ax.grid(alpha=0.3)


def _counting_cell(ax, found, training, paths, counter):
    """The LSTM cell that counts the A's, against the A's seen: the training strings'
    values and how the two chosen strings carry on past them."""
    unit, r2 = counter
    for n, (_, _, cell) in enumerate(training, start=1):
        ax.plot(np.arange(1, n + 1), cell[:n, unit], 'o', color='0.6', ms=5,
                label='training strings' if n == 1 else None)
    for n, (_, _, cell) in paths.items():
        kind = 'right' if n == found.largest_n_right else 'wrong'
        ax.plot(np.arange(1, n + 1), cell[:n, unit], '.-', color=OUTCOME_COLOURS[kind], lw=0.8,
                ms=4, label=f'n = {n} ({kind})')
    ax.axvline(found.trained + 0.5, color='tab:blue', ls=':', lw=1, label='end of training')
    ax.set_xlabel("A's seen")
    ax.set_ylabel(f'cell c{unit}')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"the counting cell c{unit} (R^2 {r2:.2f} on the training strings)",
                 fontsize=10)
    ax.legend(fontsize=7, loc='best')
    ax.grid(alpha=0.3)


def generalise_figure(found, training, paths, title='', counter=None):
    """--generalise: per n the right symbol's probability at its weakest determined
    position (log scale, training range shaded); beside it the states of the largest right
    n and the first wrong n over the training strings' states (and the LSTM's cells).

    `found` is a formats.seq_analysis.Generalisation; `training` and `paths` ({n: run})
    hold generalise.run_strings' (hidden, probs, cell) per string; `counter` (unit, R^2)
    adds the LSTM's counting cell against the A's seen."""
    has_cell = any(run[2] is not None for run in training)
    panels = 2 + has_cell + (counter is not None)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5))
    ax = axes[0]
    n = np.arange(1, found.checked + 1)
    weakest = np.maximum(np.array(found.weakest), 1e-300)
    right = np.array(found.right)
    ax.axvspan(0.5, found.trained + 0.5, color='tab:blue', alpha=0.12, label='trained on')
    ax.semilogy(n, weakest, '-', color='0.6', lw=0.8)
    ax.semilogy(n[right], weakest[right], 'o', color='tab:green', ms=3, label='right')
    ax.semilogy(n[~right], weakest[~right], 'o', color='tab:red', ms=3, label='not right')
    if found.largest_n_right < found.checked:
        ax.axvline(found.largest_n_right + 1, color='tab:red', ls='--', lw=1,
                   label=f'e1 = {found.largest_n_right + 1}')
    ax.set_xlabel('n')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel('p(right symbol), weakest determined position')
    ax.set_xlim(0, found.checked + 1)
    ax.grid(alpha=0.3, which='both')
    ax.legend(fontsize=7, loc='lower left')
    ax.set_title(f'right for every n up to {found.largest_n_right}', fontsize=10)
    largest, first_wrong = found.largest_n_right, found.largest_n_right + 1
    chosen = {m: ('right' if m == largest else 'wrong', paths[m][0]) for m in paths}
    wrong_at = found.first_wrong[first_wrong - 1] if first_wrong <= found.checked else None
    _trajectories(axes[1], [run[0] for run in training], chosen, wrong_at, 'hidden')
    axes[1].set_title('hidden states', fontsize=10)
    if has_cell:
        cells = {m: (kind, paths[m][2]) for m, (kind, _) in chosen.items()}
        _trajectories(axes[2], [run[2] for run in training], cells, wrong_at, 'cell')
        axes[2].set_title('cell states', fontsize=10)
    if counter is not None:
        _counting_cell(axes[-1], found, training, paths, counter)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
