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

from nnlab.formats import seq_analysis, seq_run
from nnlab.formats.seq_analysis import Analysis
from nnlab.formats.seq_run import SeqRun
from nnlab.page.commands import seq_key
from nnlab.page.common import attempt_blocks, formatted, made_by, shortened, to_run, unreadable
from nnlab.page.doc import Code, Figure, Heading, Link, Pre, Table, para, warn
from nnlab.page.sources import shown
from nnlab.recurrent import generalise_text, languages
from nnlab.recurrent.checkpoint import format_thousands
from nnlab.recurrent.checkpoint import stem as stem_of

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
    found = sources.records(SeqRun, seq_run.RECORDS, sources.net_dir, 'part3')
    trained = {network(r.config): (p, r) for p, r in found}     # the latest of each network
    looked = analyses(sources)
    blocks += unreadable(sources, 'part3')
    others = sorted((set(trained) | set(looked)) - set(TASKS), key=str)
    for number, which in enumerate(TASKS + tuple(others), 1):
        name = stem_of(which[0], which[2], which[3], which[1])
        anchor = f'part3-{name}'
        blocks.append(Heading(3, title(number, *which), anchor))
        blocks += training_blocks(sources, anchor, which, trained.get(which))
        blocks += inside_blocks(sources, anchor, which, looked.get(which), trained.get(which))
    return blocks


def network(config):
    """Which network a training record or an analysis is about: (lang, embed, model, hid)."""
    return config.lang, bool(config.embed), config.model, config.hid


def analyses(sources):
    """{(lang, embed, model, hid): (path, analysis)} of seq_plot.py's analysis files;
    the plain run's (the best of --restarts) before a single restart's, else the newest."""
    found = {}
    for path in glob.glob(os.path.join(glob.escape(sources.plot_dir), seq_analysis.RECORDS)):
        data = sources.load('part3', path, Analysis)
        if data is None:
            continue
        which = network(data.network)
        rank = (data.run is None, os.path.getmtime(path))
        if which not in found or rank > found[which][0]:
            found[which] = (rank, (path, data))
    return {which: item for which, (_, item) in found.items()}


def default_epoch(lang, model):
    return languages.get_spec(lang).defaults(model)['epoch']


def verdict_blocks(lang, results):
    runs = results.runs
    if not runs:
        return []
    criterion = results.criterion or 'the language\'s criterion'
    if len(runs) == 1:
        met = 'yes' if runs[0].success else 'no'
        stuck = ('' if runs[0].success else '\ntraining stuck (it sometimes does): run '
                 'it again without --seed, or train 8 runs at once with --restarts 8')
        counted = ('' if runs[0].largest_n_right is None
                   else f', largest n right {runs[0].largest_n_right}')
        return [Pre(f'{lang}: {criterion}: {met}{counted}{stuck}', 'The verdict')]
    winners = [str(i) for i, r in enumerate(runs) if r.success]
    best = results.best if results.best is not None and results.best < len(runs) else min(
        range(len(runs)), key=lambda i: runs[i].mean_last_checks
        if runs[i].mean_last_checks is not None else float('inf'))
    lines = [f'{lang}: {len(winners)} of {len(runs)} runs met the criterion ({criterion}): '
             f'runs {", ".join(winners) or "none"}',
             f'best: run {best} (seed {runs[best].seed}), the lowest mean of its last '
             f'checks; seq_train.py saved it under the plain name, which seq_plot.py reads']
    rows = tuple((str(i), str(run.seed), 'yes' if run.success else 'no',
                  formatted(run.mean_last_checks),
                  formatted(run.checks[-1] if run.checks else None),
                  formatted(run.largest_n_right, '{}'), 'best' if i == best else '')
                 for i, run in enumerate(runs))
    if not winners:
        lines.append(f'no run met the criterion: try more runs (--restarts {2 * len(runs)}) '
                     f'or another --seed')
    return [Pre('\n'.join(lines), 'The verdict'),
            Table(('run', 'seed', 'met', f'mean {results.metric} of the last checks',
                   f'last {results.metric}', 'largest n right', ''), rows,
                  'Every run of --restarts')]


def training_blocks(sources, anchor, which, found):
    lang, embed, model, hid = which
    key = seq_key(lang, model, hid)
    if found is None:
        if which not in TASKS:
            return [para('No training record (seq_train.py writes one) in ',
                         Code(shown(sources.net_dir)), '.', kind='note')]
        return to_run(sources,
                      seq_run.record_path(sources.net_dir, stem_of(lang, model, hid, embed)),
                      key, key + '_plot')
    path, record = found
    blocks = [Heading(4, 'Training')] + made_by(path, record)
    course, epoch = default_epoch(lang, model), record.config.epoch
    if epoch < course:
        blocks += shortened(sources, anchor, f'{format_thousands(epoch)},000 training examples '
                                             f'instead of {course},000')
    blocks += verdict_blocks(lang + ('_embed' if embed else ''), record.results)
    saved = record.results.checkpoints
    if saved:
        blocks.append(para(f'Checkpoints: {len(saved)} files, from ',
                           Code(shown(saved[0])), ' to ', Code(shown(saved[-1])), '.'))
    return blocks


SUFFIXES = (  # (the picture's name after '{stem}_' and 'ctx_', caption)
    (r'(\d)(\d)', 'units {0} and {1} at every position, coloured by state'),
    (r'3d', 'units 0-2 in 3-D, coloured by state'),
    (r'3d_views', 'units 0-2 in 3-D, four views'),
    (r'(\d)(\d)_fsm', 'the extracted states outlined, with their transitions (units {0} and {1})'),
    (r'fsm', 'the state machine, states that behave alike merged'),
    (r'explain', 'each counting quantity against the unit that tracks it best'),
    (r'loss', 'the training loss or error'),
    (r'generalise', 'beyond the training lengths: the right symbol\'s weakest probability '
                    'per n, and the hidden states of the longest right and first wrong n'),
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
            sources, seq_analysis.record_path(sources.plot_dir, stem_of(lang, model, hid, embed)),
            key)
    path, analysis = found
    name = os.path.basename(path).removesuffix(seq_analysis.SUFFIX)
    command = analysis.command or '?'
    blocks = [Heading(4, 'Inside the network'),
              para('Made by ', Code(command), ' (as recorded in ', Code(shown(path)), ').')]
    if analysis.checkpoint:
        met = analysis.trained.success
        verdict = '' if met is None else f'; criterion met: {"yes" if met else "no"}'
        seed = formatted(analysis.trained.seed, '{}')
        blocks.append(para('Checkpoint ', Code(shown(analysis.checkpoint)),
                           f' (trained with seed {seed}{verdict}).'))
    if trained is not None and os.path.getmtime(path) < os.path.getmtime(trained[0]):
        blocks.append(warn('This look inside is older than the training run above: it shows '
                           'an earlier network. Run ', Code(command), ' again.'))
    course = default_epoch(lang, model)
    if trained is None and analysis.epoch < course:
        # (with a training record, its own note above already says so)
        blocks += shortened(sources, anchor, f'a checkpoint after '
                                             f'{format_thousands(analysis.epoch)},000 '
                                             f'examples instead of {course},000')
    for part, label in ((analysis.fsm, 'The state machine the network implements (--fsm)'),
                        (analysis.explain, 'Which units count (--explain)')):
        if part is not None and part.text.strip():
            blocks.append(Pre(part.text.strip('\n'), label))
    found = analysis.generalise
    if found is not None:
        blocks += [Pre(generalise_text.line(found), 'How far it counts (--generalise)'),
                   Pre(generalise_text.table(found, languages.get_spec(lang).multiples),
                       f'Every n checked, 1..{found.checked}', folded=True)]
    files = sources.located_all(path, analysis.pictures)
    # A series of pair scatters (one per two units) goes two to a row.
    series = re.compile(re.escape(name) + r'_(ctx_)?\d\d(_fsm)?\.\w+$')
    blocks += [Figure(f, caption(name, f), bool(series.search(f)))
               for f in files if not f.endswith('.gif')]
    blocks += [para('A rotating 3-D view (an animation, not embedded): ', Link(shown(gif), gif),
                    '.') for gif in files if gif.endswith('.gif')]
    missing = [p for p in analysis.pictures if not sources.located(path, p)]
    if missing:
        blocks.append(para(f'{len(missing)} of the pictures it lists are gone (e.g. ',
                           Code(os.path.basename(missing[0])), '): run the command again.',
                           kind='note'))
    return blocks
