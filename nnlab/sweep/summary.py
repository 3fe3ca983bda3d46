"""The sweep's summary: a table per setting (DIR/summary.md) and pictures.

    summary.md    the table below, with the command and how success is judged
    success.png   per setting: the share of runs that succeeded, with its 95% interval
                  (seq_train.py and check_main.py; kuzu_main.py has no success criterion)
    metric.png    per setting: every run's headline number (a box and the runs as dots)
    generalise.png  seq_train.py on a counting language: every run's largest n right

Everything is computed from results.csv alone, so `sweep.py --report --out DIR` gives the
same files for a sweep that was interrupted, resumed, or run on another machine.
"""
import datetime
import itertools
import os
import zlib

from nnlab.files import atomic_write_text
from nnlab.markup import markdown_code, markdown_text, plot_text
from nnlab.sweep.plan import Setting
from nnlab.sweep.scripts import numbers
from nnlab.sweep.stats import summarise

SUMMARY, SUCCESS_PICTURE, METRIC_PICTURE = 'summary.md', 'success.png', 'metric.png'
GENERALISE_PICTURE = 'generalise.png'      # seq_train.py on a counting language


def grouped(sweep, results):
    """[(Setting, rows)] in the sweep's setting order; settings that only earlier
    definitions of a resumed sweep had come last."""
    settings = {s.key: s for s in sweep.settings}
    return [(settings.get(key) or Setting(tuple(zip(sweep.grid_names, key))), list(rows))
            for key, rows in itertools.groupby(results.ordered(sweep.settings),
                                               key=lambda row: row.setting)]


def table(sweep, groups):
    """The markdown table, one line per setting."""
    kind = sweep.kind
    head = [*kind.head(), 'median s', 'failed']
    lines = ['| setting | ' + ' | '.join(map(markdown_text, head)) + ' |',
             '|---' * (len(head) + 1) + '|']
    for setting, rows in groups:
        cells = summarise(rows, kind)['cells']
        lines.append(f'| {markdown_text(setting.label)} | '
                     + ' | '.join(markdown_text(c) or ' ' for c in cells) + ' |')
    return '\n'.join(lines)


def write_summary(folder, sweep, results):
    """Write summary.md and the pictures; return (table text, paths written)."""
    groups = grouped(sweep, results)
    text = table(sweep, groups)
    rows = sum(len(r) for _, r in groups)
    failed = sum(not r.ok for _, g in groups for r in g)
    stamp = datetime.datetime.now().astimezone().isoformat(timespec='seconds')
    pictures = [SUCCESS_PICTURE, METRIC_PICTURE] if sweep.kind.has_criterion \
        else [METRIC_PICTURE]
    if any(r.ok and r.number('largest_n_right') is not None for _, g in groups for r in g):
        pictures.append(GENERALISE_PICTURE)     # seq_train.py on a counting language
    summary = (f"# Sweep of {markdown_text(sweep.kind.name)}\n\n"
               f"Command: {markdown_code(sweep.command)}\n\n"
               f"{rows} rows ({len(groups)} settings), {failed} failed. Success: "
               f"{sweep.kind.criterion}. Interval: 95% Wilson score interval. "
               f"Seconds: a task's wall time shared by the seeds it trained.\n\n"
               f"{text}\n\n"
               f"Pictures: {', '.join(pictures)}.\n\n"
               f"Written {stamp} from results.csv.\n")
    written = [atomic_write_text(os.path.join(folder, SUMMARY), summary)]
    drawing = {SUCCESS_PICTURE: draw_success, METRIC_PICTURE: draw_metric,
               GENERALISE_PICTURE: draw_generalisation}
    written += [drawing[name](folder, sweep, groups) for name in pictures if groups]
    return text, written


def _axes(groups):
    from nnlab.plotting import plt
    return plt.subplots(figsize=(max(5, 0.9 * len(groups) + 2), 4))


def _save(fig, ax, folder, name, sweep, groups, ylabel, what):
    """The settings along x, the labels and the title; the picture saved as `name`."""
    from nnlab.plotting import save_figure
    rotate = 30 if len(groups) > 6 else 0
    ax.set_xticks(range(len(groups)), [plot_text(setting.label) for setting, _ in groups],
                  rotation=rotate, ha='right' if rotate else 'center')
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel(ylabel)
    title = plot_text(' '.join([sweep.kind.name, *sweep.script_args]))
    ax.set_title(f'{title}\n{what}', fontsize=9)
    ax.grid(axis='y', alpha=0.3)
    return save_figure(fig, os.path.join(folder, name))


def _dots(ax, x, label, values, colours):
    """One dot a run, at fixed horizontal offsets (the same picture every time)."""
    start = zlib.crc32(label.encode()) % 97 / 97
    offsets = [((start + i * 0.618034) % 1 - 0.5) * 2 * 0.18 for i in range(len(values))]
    ax.scatter([x + o for o in offsets], values, s=10, c=colours, alpha=0.7, zorder=3)


def _no_runs(ax, x):
    ax.text(x, 0.5, 'no finished runs', transform=ax.get_xaxis_transform(), ha='center',
            va='center', fontsize=8, color='grey')


def _verdicts(rows):
    return ['tab:green' if r.success else 'tab:red' for r in rows]


def draw_success(folder, sweep, groups):
    """success.png: per setting the share of runs that succeeded, with its interval."""
    fig, ax = _axes(groups)
    for x, (_, rows) in enumerate(groups):
        s = summarise(rows, sweep.kind)
        if not s['runs']:
            _no_runs(ax, x)
            continue
        low, high = s['interval']
        ax.errorbar([x], [100 * s['share']], yerr=[[100 * (s['share'] - low)],
                                                   [100 * (high - s['share'])]],
                    fmt='o', color='tab:blue', capsize=5)
        ax.annotate(f"{s['successes']}/{s['runs']}", (x, 100 * s['share']),
                    textcoords='offset points', xytext=(8, 0), va='center', fontsize=8)
    ax.set_ylim(-3, 103)
    return _save(fig, ax, folder, SUCCESS_PICTURE, sweep, groups, 'runs that succeeded (%)',
                 'success share per setting, 95% Wilson interval')


def draw_metric(folder, sweep, groups):
    """metric.png: per setting a box of the runs' headline numbers, and the runs as dots."""
    kind = sweep.kind
    fig, ax = _axes(groups)
    column, log = kind.metric.column, kind.metric.log_scale
    thresholds = set()
    for x, (setting, rows) in enumerate(groups):
        finished = [r for r in rows if r.ok and r.number(column) is not None]
        values = numbers(finished, column)
        if not values:
            _no_runs(ax, x)
            continue
        log = log and min(values) > 0
        ax.boxplot([values], positions=[x], widths=0.5, showfliers=False,
                   medianprops=dict(color='black'))
        _dots(ax, x, setting.label, values, _verdicts(finished) if kind.has_criterion
              else ['tab:blue'] * len(values))
        thresholds.update(numbers(finished, 'threshold'))
    if len(thresholds) == 1:
        ax.axhline(float(thresholds.pop()), color='grey', linestyle='--', linewidth=1,
                   label='success threshold')
        ax.legend(fontsize=8, loc='best')
    if log:
        ax.set_yscale('log')
    dots = '; green: succeeded, red: did not' if kind.has_criterion else ''
    return _save(fig, ax, folder, METRIC_PICTURE, sweep, groups, kind.metric.label,
                 f'{kind.metric.label} per setting (one dot a run{dots})')


def draw_generalisation(folder, sweep, groups):
    """generalise.png: per setting every run's largest n right (green: met the
    criterion, red: not) and the training range's end as a dashed mark."""
    fig, ax = _axes(groups)
    for x, (setting, rows) in enumerate(groups):
        finished = [r for r in rows if r.ok and r.number('largest_n_right') is not None]
        if not finished:
            _no_runs(ax, x)
            continue
        _dots(ax, x, setting.label, numbers(finished, 'largest_n_right'), _verdicts(finished))
        for trained in sorted(set(numbers(finished, 'trained_n'))):
            ax.hlines(trained + 0.5, x - 0.35, x + 0.35, colors='grey', linestyles='--',
                      linewidth=1)
    return _save(fig, ax, folder, GENERALISE_PICTURE, sweep, groups,
                 'largest n right (e1 - 1)', 'right on every n up to (one dot a run; green: '
                 'met the criterion; dashed: end of the training range)')
