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
    by_key = {}
    for row in results.ordered(sweep.settings):
        by_key.setdefault(row.setting, []).append(row)
    settings = {s.key: s for s in sweep.settings}
    for key in by_key:
        settings.setdefault(key, Setting(tuple(zip(sweep.grid_names, key))))
    return [(settings[key], rows) for key, rows in by_key.items()]


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
    beyond = measured_beyond(groups)
    if beyond:
        pictures.append(GENERALISE_PICTURE)
    summary = (f"# Sweep of {markdown_text(sweep.kind.name)}\n\n"
               f"Command: {markdown_code(sweep.command)}\n\n"
               f"{rows} rows ({len(groups)} settings), {failed} failed. Success: "
               f"{sweep.kind.criterion}. Interval: 95% Wilson score interval. "
               f"Seconds: a task's wall time shared by the seeds it trained.\n\n"
               f"{text}\n\n"
               f"Pictures: {', '.join(pictures)}.\n\n"
               f"Written {stamp} from results.csv.\n")
    written = [atomic_write_text(os.path.join(folder, SUMMARY), summary)]
    if groups:
        written += draw(folder, sweep, groups)
    if beyond:
        written.append(draw_generalisation(folder, sweep, groups))
    return text, written


def measured_beyond(groups):
    """True if any finished row has seq_train.py's largest_n_right."""
    return any(r.ok and r.number('largest_n_right') is not None
               for _, rows in groups for r in rows)


def draw_generalisation(folder, sweep, groups):
    """generalise.png: per setting every run's largest n right (green: met the
    criterion, red: not) and the training range's end as a dashed mark."""
    from nnlab.plotting import plt, save_figure
    labels = [plot_text(setting.label) for setting, _ in groups]
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(groups) + 2), 4))
    for x, (setting, rows) in enumerate(groups):
        finished = [r for r in rows if r.ok and r.number('largest_n_right') is not None]
        if not finished:
            _no_runs(ax, x)
            continue
        values = numbers(finished, 'largest_n_right')
        colours = ['tab:green' if r.success else 'tab:red' for r in finished]
        offsets = _jitter(setting.label, len(values))
        ax.scatter([x + o for o in offsets], values, s=10, c=colours, alpha=0.7, zorder=3)
        for trained in sorted(set(numbers(finished, 'trained_n'))):
            ax.hlines(trained + 0.5, x - 0.35, x + 0.35, colors='grey', linestyles='--',
                      linewidth=1)
    rotate = 30 if len(groups) > 6 else 0
    ax.set_xticks(range(len(groups)), labels, rotation=rotate,
                  ha='right' if rotate else 'center')
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel('largest n right (e1 - 1)')
    title = plot_text(' '.join([sweep.kind.name, *sweep.script_args]))
    ax.set_title(f'{title}\nright on every n up to (one dot a run; green: met the '
                 f'criterion; dashed: end of the training range)', fontsize=9)
    ax.grid(axis='y', alpha=0.3)
    return save_figure(fig, os.path.join(folder, GENERALISE_PICTURE))


def _jitter(label, count, width=0.18):
    """Fixed horizontal offsets for the dots of one setting (the same picture every time)."""
    start = zlib.crc32(label.encode()) % 97 / 97
    return [((start + i * 0.618034) % 1 - 0.5) * 2 * width for i in range(count)]


def _no_runs(ax, x):
    ax.text(x, 0.5, 'no finished runs', transform=ax.get_xaxis_transform(), ha='center',
            va='center', fontsize=8, color='grey')


def draw(folder, sweep, groups):
    from nnlab.plotting import plt, save_figure
    kind = sweep.kind
    labels = [plot_text(setting.label) for setting, _ in groups]
    positions = range(len(groups))
    title = plot_text(' '.join([kind.name, *sweep.script_args]))
    rotate = 30 if len(groups) > 6 else 0
    written = []

    if kind.has_criterion:
        fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(groups) + 2), 4))
        for x, (_, rows) in zip(positions, groups):
            s = summarise(rows, kind)
            if not s['runs']:
                _no_runs(ax, x)
                continue
            low, high = s['interval']
            ax.errorbar([x], [100 * s['share']], yerr=[[100 * (s['share'] - low)],
                                                       [100 * (high - s['share'])]],
                        fmt='o', color='tab:blue', capsize=5)
            ax.annotate(f"{s['successes']}/{s['runs']}", (x, 100 * s['share']),
                        textcoords='offset points', xytext=(8, 0), va='center', fontsize=8)
        ax.set_xticks(list(positions), labels, rotation=rotate,
                      ha='right' if rotate else 'center')
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.set_ylim(-3, 103)
        ax.set_ylabel('runs that succeeded (%)')
        ax.set_title(f'{title}\nsuccess share per setting, 95% Wilson interval', fontsize=9)
        ax.grid(axis='y', alpha=0.3)
        written.append(save_figure(fig, os.path.join(folder, SUCCESS_PICTURE)))

    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(groups) + 2), 4))
    column, log = kind.metric.column, kind.metric.log_scale
    thresholds = set()
    for x, (setting, rows) in zip(positions, groups):
        finished = [r for r in rows if r.ok and r.number(column) is not None]
        values = numbers(finished, column)
        if not values:
            _no_runs(ax, x)
            continue
        log = log and min(values) > 0
        ax.boxplot([values], positions=[x], widths=0.5, showfliers=False,
                   medianprops=dict(color='black'))
        colours = ['tab:green' if r.success else 'tab:red' for r in finished] \
            if kind.has_criterion else ['tab:blue'] * len(values)
        offsets = _jitter(setting.label, len(values))
        ax.scatter([x + o for o in offsets], values, s=10, c=colours, alpha=0.7, zorder=3)
        thresholds.update(r.number('threshold') for r in finished
                          if r.number('threshold') is not None)
    if len(thresholds) == 1:
        ax.axhline(float(thresholds.pop()), color='grey', linestyle='--', linewidth=1,
                   label='success threshold')
        ax.legend(fontsize=8, loc='best')
    if log:
        ax.set_yscale('log')
    ax.set_xticks(list(positions), labels, rotation=rotate, ha='right' if rotate else 'center')
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel(kind.metric.label)
    dots = '; green: succeeded, red: did not' if kind.has_criterion else ''
    ax.set_title(f'{title}\n{kind.metric.label} per setting (one dot a run{dots})', fontsize=9)
    ax.grid(axis='y', alpha=0.3)
    written.append(save_figure(fig, os.path.join(folder, METRIC_PICTURE)))
    return written
