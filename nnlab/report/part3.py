"""Part 3 of the page: each recurrent network's training verdict, then what seq_plot.py
found inside it (the state machine, the counting units) and its pictures.

The course's two tasks come first (anb2n with an SRN of 2 units, anb2nc3n with an LSTM of
3), then any other language or model the runs left. Training facts come from
seq_train.py's record ({net_dir}/{stem}_run.json), the look inside from seq_plot.py's
analysis ({plot_dir}/{stem}_analysis.json, which lists its pictures).
"""
import glob
import os
import re
import shlex

from nnlab.recurrent import languages
from nnlab.recurrent.checkpoint import format_thousands
from nnlab.recurrent.checkpoint import stem as stem_of
from nnlab.report.commands import course_command, seq_key
from nnlab.report.common import attempt_blocks, figures, made_by, shortened, to_run
from nnlab.report.doc import Code, Heading, Link, Pre, Table, para, warn
from nnlab.report.sources import picture, read_json, shown

TASKS = (('anb2n', False, 'srn', 2), ('anb2nc3n', False, 'lstm', 3))
NAMES = {'anb2n': 'AⁿB²ⁿ', 'anb2nc3n': 'AⁿB²ⁿC³ⁿ', 'anbn': 'AⁿBⁿ', 'anbncn': 'AⁿBⁿCⁿ',
         'reber': 'the Reber grammar'}
MODELS = {'srn': 'an SRN', 'lstm': 'an LSTM', 'gru': 'a GRU'}


def title(number, lang, embed, model, hid):
    language = 'the embedded Reber grammar' if embed else NAMES.get(lang, lang)
    units = f'{hid} hidden unit{"s" if hid != 1 else ""}'
    return (f'{number}. {lang}{"_embed" if embed else ""} ({language}) with '
            f'{MODELS.get(model, model)} of {units}')


def build(sources):
    blocks = [Heading(2, 'Part 3: hidden unit dynamics of recurrent networks', 'part3')]
    trained = {}
    for path, record in sources.records('seq_train.py', '*_run.json', sources.net_dir):
        config = record.get('config') or {}
        which = (config.get('lang'), bool(config.get('embed')), config.get('model'),
                 config.get('hid'))
        trained[which] = (path, record)         # the latest of each language, model, size
    looked = analyses(sources.plot_dir)
    others = sorted((set(trained) | set(looked)) - set(TASKS), key=str)
    for number, which in enumerate(TASKS + tuple(others), 1):
        name = stem_of(which[0], which[2], which[3], which[1])
        anchor = f'part3-{name}'
        blocks.append(Heading(3, title(number, *which), anchor))
        blocks += training_blocks(sources, anchor, which, trained.get(which))
        blocks += inside_blocks(sources, anchor, which, looked.get(which), trained.get(which))
    return blocks


def analyses(plot_dir):
    """{(lang, embed, model, hid): (path, analysis)} of seq_plot.py's analysis files;
    the plain run's (the best of --restarts) before a single restart's, else the newest."""
    found = {}
    for path in glob.glob(os.path.join(glob.escape(plot_dir), '*_analysis.json')):
        data = read_json(path)
        if not data or data.get('format') != 'nnlab-analysis-1':
            continue
        which = (data.get('lang'), bool(data.get('embed')), data.get('model'), data.get('hid'))
        rank = (data.get('run') is None, os.path.getmtime(path))
        if which not in found or rank > found[which][0]:
            found[which] = (rank, (path, data))
    return {which: item for which, (_, item) in found.items()}


def default_epoch(lang, model):
    try:
        return languages.get_spec(lang).defaults(model)['epoch']
    except Exception:           # an unknown language in an old file: no default to compare
        return None


def verdict_blocks(lang, results):
    runs = [r for r in results.get('runs') or [] if isinstance(r, dict)]
    criterion = results.get('criterion') or 'the language\'s criterion'
    if not runs:
        return []
    if len(runs) == 1:
        met = 'yes' if runs[0].get('success') else 'no'
        stuck = ('' if runs[0].get('success') else '\ntraining stuck (it sometimes does): run '
                 'it again without --seed, or train 8 runs at once with --restarts 8')
        return [Pre(f'{lang}: {criterion}: {met}{stuck}', 'The verdict')]
    winners = [str(i) for i, r in enumerate(runs) if r.get('success')]
    means = [r.get('mean_last_checks') for r in runs]
    best = min(range(len(runs)), key=lambda i: means[i] if isinstance(means[i], float)
               else float('inf'))
    lines = [f'{lang}: {len(winners)} of {len(runs)} runs met the criterion ({criterion}): '
             f'runs {", ".join(winners) or "none"}',
             f'best: run {best} (seed {runs[best].get("seed")}), the lowest mean of its last '
             f'checks; seq_train.py saved it under the plain name, which seq_plot.py reads']
    rows = []
    for i, run in enumerate(runs):
        checks = run.get('checks') or []
        mean = run.get('mean_last_checks')
        rows.append((str(i), str(run.get('seed', '?')), 'yes' if run.get('success') else 'no',
                     f'{mean:.4f}' if isinstance(mean, float) else '?',
                     f'{checks[-1]:.4f}' if checks and isinstance(checks[-1], float) else '?',
                     'best' if i == best else ''))
    metric = results.get('metric', 'error')
    if not winners:
        lines.append(f'no run met the criterion: try more runs (--restarts {2 * len(runs)}) '
                     f'or another --seed')
    return [Pre('\n'.join(lines), 'The verdict'),
            Table(('run', 'seed', 'met', f'mean {metric} of the last checks',
                   f'last {metric}', ''), tuple(rows), 'Every run of --restarts')]


def training_blocks(sources, anchor, which, found):
    lang, embed, model, hid = which
    key = seq_key(lang, model, hid)
    if found is None:
        if which not in TASKS:
            return [para('No training record (seq_train.py writes one) in ',
                         Code(shown(sources.net_dir)), '.', kind='note')]
        return to_run(sources, key, [course_command(key), course_command(key + '_plot')],
                      os.path.join(sources.net_dir, f'{stem_of(lang, model, hid, embed)}_run.json'))
    path, record = found
    config, results = record.get('config') or {}, record.get('results') or {}
    blocks = [Heading(4, 'Training')] + made_by(path, record)
    epoch, course = config.get('epoch'), default_epoch(lang, model)
    if isinstance(epoch, (int, float)) and course and epoch < course:
        blocks.append(shortened(sources, anchor, f'{format_thousands(epoch)},000 training '
                                                 f'examples instead of {course},000'))
    blocks += verdict_blocks(lang + ('_embed' if embed else ''), results)
    saved = results.get('checkpoints') or []
    if saved:
        blocks.append(para(f'Checkpoints: {len(saved)} files, from ',
                           Code(shown(saved[0])), ' to ', Code(shown(saved[-1])), '.'))
    return blocks


def plot_command(analysis):
    """seq_plot.py's command line as its analysis file records it, or (an older file)
    rebuilt from it: language, model and checkpoint flags, and the analyses it holds."""
    if isinstance(analysis.get('command'), str):
        return analysis['command']
    flags = ['--lang', analysis.get('lang', '?')]
    if analysis.get('embed'):
        flags += ['--embed', 'True']
    flags += ['--model', str(analysis.get('model')), '--hid', str(analysis.get('hid'))]
    if isinstance(analysis.get('epoch'), (int, float)):
        flags += ['--epoch', format_thousands(analysis['epoch'])]
    if analysis.get('run') is not None:
        flags += ['--run', str(analysis['run'])]
    if any('_ctx_' in os.path.basename(p) for p in analysis.get('pictures') or []):
        flags.append('--context')
    flags += [f for f in ('--fsm', '--explain') if f[2:] in analysis]
    return shlex.join(['python3', 'seq_plot.py', *flags])


SUFFIXES = (  # (the picture's name after '{stem}_' and 'ctx_', caption)
    (r'(\d)(\d)', 'units {0} and {1} at every position, coloured by state'),
    (r'3d', 'units 0-2 in 3-D, coloured by state'),
    (r'3d_views', 'units 0-2 in 3-D, four views'),
    (r'(\d)(\d)_fsm', 'the extracted states outlined, with their transitions (units {0} and {1})'),
    (r'fsm', 'the state machine, states that behave alike merged'),
    (r'explain', 'each counting quantity against the unit that tracks it best'),
    (r'loss', 'the training loss or error'),
)


def caption(name, path):
    rest = os.path.splitext(os.path.basename(path))[0].removeprefix(name + '_')
    cell = rest.startswith('ctx_')      # --context: the LSTM's cell states
    rest = rest.removeprefix('ctx_')
    for pattern, text in SUFFIXES:
        match = re.fullmatch(pattern, rest)
        if match:
            text = text.format(*match.groups())
            return 'Cell states: ' + text if cell else text[0].upper() + text[1:]
    return rest


def inside_blocks(sources, anchor, which, found, trained):
    lang, embed, model, hid = which
    key = seq_key(lang, model, hid, plot=True)
    if found is None:
        if which not in TASKS:
            return []
        if trained is None:     # the note above already says to run both
            return attempt_blocks(sources, key)
        return [Heading(4, 'Inside the network')] + to_run(
            sources, key, [course_command(key)],
            os.path.join(sources.plot_dir, f'{stem_of(lang, model, hid, embed)}_analysis.json'))
    path, analysis = found
    name = os.path.basename(path).removesuffix('_analysis.json')
    blocks = [Heading(4, 'Inside the network'),
              para('Made by ', Code(plot_command(analysis)),
                   ' (as recorded in ' if analysis.get('command') else ' (rebuilt from ',
                   Code(shown(path)), ').')]
    trained_with = analysis.get('trained') or {}
    if analysis.get('checkpoint'):
        met = trained_with.get('success')
        verdict = '' if met is None else f'; criterion met: {"yes" if met else "no"}'
        blocks.append(para('Checkpoint ', Code(shown(analysis['checkpoint'])),
                           f' (trained with seed {trained_with.get("seed", "?")}{verdict}).'))
    if trained is not None and os.path.getmtime(path) < os.path.getmtime(trained[0]):
        blocks.append(warn('This look inside is older than the training run above: it shows '
                           'an earlier network. Run ', Code(plot_command(analysis)), ' again.'))
    epoch, course = analysis.get('epoch'), default_epoch(lang, model)
    if trained is None and isinstance(epoch, (int, float)) and course and epoch < course:
        # (with a training record, its own note above already says so)
        blocks.append(shortened(sources, anchor, f'a checkpoint after '
                                                 f'{format_thousands(epoch)},000 examples '
                                                 f'instead of {course},000'))
    for part, label in (('fsm', 'The state machine the network implements (--fsm)'),
                        ('explain', 'Which units count (--explain)')):
        text = (analysis.get(part) or {}).get('text') if isinstance(analysis.get(part),
                                                                    dict) else None
        if isinstance(text, str) and text.strip():
            blocks.append(Pre(text.strip('\n'), label))
    files = [picture(path, p) for p in analysis.get('pictures') or []]
    files = [f for f in files if f]
    # A series of pair scatters (one per two units) goes two to a row.
    series = re.compile(re.escape(name) + r'_(ctx_)?\d\d(_fsm)?\.\w+$')
    for f in files:
        if not f.endswith('.gif'):
            blocks += figures([(f, caption(name, f))], small=bool(series.search(f)))
    for gif in (f for f in files if f.endswith('.gif')):
        blocks.append(para('A rotating 3-D view (an animation, not embedded): ',
                           Link(shown(gif), gif), '.'))
    missing = [p for p in analysis.get('pictures') or [] if not picture(path, p)]
    if missing:
        blocks.append(para(f'{len(missing)} of the pictures it lists are gone (e.g. ',
                           Code(os.path.basename(missing[0])), '): run the command again.',
                           kind='note'))
    return blocks
