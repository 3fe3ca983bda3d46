"""Part 2 of the page: the three perceptron runs, each with its final weights and accuracy,
the dividing lines, the activation table and the pictures.

Where the lines and the table come from: check_main.py prints them but its run record
did not keep them, and the trained network's weights are not saved anywhere, so they
cannot be recomputed later. In order of preference: the record's `results.report_text`
(the printed text, which check's record is getting), else the console output that
`report.py --run` kept of the run, else a note saying which command prints them.
"""
import os

from nnlab.report.commands import course_command
from nnlab.report.common import figures, made_by, shortened, to_run
from nnlab.report.doc import Code, Heading, Pre, Table, para
from nnlab.report.sources import picture, started_at

COURSE_EPOCHS = 200000


def _designed(config):
    return bool(config.get('set_weights') or config.get('weights'))


QUESTIONS = (  # (key, title, does a record's config answer it)
    ('check_sig5', '1. A sigmoid network trained to 100% (5 hidden units)',
     lambda c: c.get('act') == 'sig' and not _designed(c)),
    ('check_step4', '2. The hand-designed step network (4 hidden units)',
     lambda c: c.get('act') == 'step'),
    ('check_sig4', '3. The same weights in a sigmoid network (multiplied by 10)',
     lambda c: c.get('act') == 'sig' and _designed(c)),
)


def build(sources):
    blocks = [Heading(2, 'Part 2: a 2-layer perceptron on the 3x3 grid', 'part2')]
    found = sources.records('check_main.py', 'check_*_run.json', sources.plot_dir)
    owners = picture_owners(found)
    used = set()
    for key, title, answers in QUESTIONS:
        anchor = f'part2-{key.removeprefix("check_")}'
        blocks.append(Heading(3, title, anchor))
        matches = [(p, r) for p, r in found if answers(r.get('config') or {})]
        if key == 'check_sig5':     # the course's size first, then any other size
            matches.sort(key=lambda item: (item[1]['config'].get('hid') == 5,
                                           started_at(item[1])))
        if not matches:
            blocks += to_run(sources, key, [course_command(key)],
                             os.path.join(sources.plot_dir, 'check_*_run.json'))
            continue
        path, record = matches[-1]
        used.add(path)
        blocks += run_blocks(sources, anchor, path, record, owners)
    others = [(p, r) for p, r in found if p not in used]
    if others:
        blocks.append(Heading(4, 'Other Part 2 runs found'))
        rows = tuple((r.get('command', '?'), _accuracy(r), r.get('status', '?'), p)
                     for p, r in others)
        blocks.append(Table(('command', 'final accuracy', 'status', 'run record'), rows))
    return blocks


def _accuracy(record):
    value = (record.get('results') or {}).get('final_accuracy')
    return f'{value:.2f}%' if isinstance(value, (int, float)) else '?'


def picture_owners(found):
    """{picture file: record path} of the latest record listing it: runs that share a
    folder overwrite each other's check.jpg (and the two 4-unit runs hid_4_*, out_4)."""
    owners = {}
    for path, record in found:              # oldest first: later runs take over
        for recorded in (record.get('results') or {}).get('pictures') or []:
            where = picture(path, recorded)
            if where:
                owners[os.path.abspath(where)] = path
    return owners


def caption(name, hid):
    stem = os.path.splitext(name)[0]
    if stem == 'check':
        return "The initial network's output (shaded where it predicts 1)"
    if stem == f'out_{hid}':
        return "The trained network's output: shaded where it predicts 1, hidden lines faint"
    if stem.startswith(f'hid_{hid}_'):
        unit = stem.rsplit('_', 1)[1]
        return f'Hidden unit h{unit}: shaded where it is on (>= 0.5), with its dividing line'
    if stem == f'loss_{hid}':
        return 'The training loss'
    return stem


def printed_text(sources, record):
    """(the printed Final Weights ... table text, where it came from), or (None, None)."""
    text = (record.get('results') or {}).get('report_text')
    if isinstance(text, str) and text.strip():
        return text, 'the run record'
    log = sources.log_text(record)
    start = log.rfind('Final Weights:') if log else -1
    if start < 0:
        return None, None
    end = log.find('\nPictures:', start)
    return log[start:end if end >= 0 else None], 'the console output kept by report.py --run'


def section(lines, header):
    """The lines after the line starting with `header`, up to a blank line."""
    for i, line in enumerate(lines):
        if line.startswith(header):
            out = []
            for rest in lines[i + 1:]:
                if not rest.strip():
                    break
                out.append(rest)
            return out
    return []


def activation_table(lines):
    """The printed table ('x y | h0 .. | output target [<- wrong]') as a Table, or None."""
    if len(lines) < 2 or lines[0].count('|') != 2:
        return None
    left, middle, right = (part.split() for part in lines[0].split('|'))
    header = (*left, *middle, *right, 'wrong?')
    rows = []
    for line in lines[1:]:
        parts = line.split('|')
        if len(parts) != 3:
            return None
        cells = [c for part in parts for c in part.split()]
        wrong = '<-' in cells
        cells = [c for c in cells if c not in ('<-', 'wrong')]
        if len(cells) != len(header) - 1:
            return None
        rows.append((*cells, 'wrong' if wrong else ''))
    return Table(header, tuple(rows), 'Hidden and output activations for each of the 9 '
                                      'points (on / class 1 where >= 0.5)')


def text_blocks(sources, record):
    text, origin = printed_text(sources, record)
    if text is None:
        command = record.get('command') or 'the command'
        return [para('The final weights, dividing lines and activation table are printed '
                     'by the command above; this run left no copy of them. Run it again '
                     'through ', Code('python3 report.py --run'), ' (which keeps the output), '
                     'or paste them from the console of ', Code(command), '.', kind='note')]
    lines = text.splitlines()
    blocks = []
    weights = []
    for line in lines:
        weights.append(line)
        if line.startswith('Final Accuracy'):
            break
    blocks.append(Pre('\n'.join(weights).strip('\n'), f'Final weights and accuracy (from '
                                                        f'{origin})'))
    dividing = section(lines, 'Dividing lines')
    if dividing:
        blocks.append(Pre('\n'.join(dividing), 'The dividing line of each hidden unit (the '
                                               'unit is on where the left side is >= 0)'))
    table_lines = section(lines, 'Activations per point')
    table = activation_table(table_lines)
    if table is not None:
        blocks.append(table)
    elif table_lines:
        blocks.append(Pre('\n'.join(table_lines), 'Activations per point'))
    return blocks


def restarts_table(record):
    results = record.get('results') or {}
    runs, kept = results.get('restarts') or [], results.get('kept')
    if len(runs) < 2:
        return []
    rows = []
    for i, run in enumerate(runs):
        since = run.get('perfect_since')
        loss = run.get('final_loss')
        rows.append((str(i), str(run.get('seed', '?')), 'yes' if run.get('reached_100') else 'no',
                     '' if since is None else str(since), str(run.get('stopped', '?')),
                     f'{loss:.4f}' if isinstance(loss, (int, float)) else '?',
                     _accuracy({'results': {'final_accuracy': run.get('final_accuracy')}}),
                     'kept' if i == kept else ''))
    won = sum(1 for run in runs if run.get('reached_100'))
    first = ((record.get('config') or {}).get('first') and isinstance(kept, int)
             and f' (--first: training ended when restart {kept} had finished; the others '
                 f'as they were then)' or '')
    return [Table(('restart', 'seed', 'reached 100%', '100% from epoch', 'stopped after epoch',
                   'final loss', 'final accuracy', ''), tuple(rows),
                  f'Restarts: {won} of {len(runs)} reached 100%{first}')]


def cut_short(record):
    """Why a trained run is shorter than the course's, or '': only when its epoch limit
    (below the course's 200000) stopped the kept network before it finished."""
    config, results = record.get('config') or {}, record.get('results') or {}
    limit = config.get('epoch')
    runs, kept = results.get('restarts') or [], results.get('kept')
    if not isinstance(limit, int) or limit >= COURSE_EPOCHS or not runs:
        return ''
    chosen = runs[kept] if isinstance(kept, int) and 0 <= kept < len(runs) else runs[0]
    if chosen.get('reached_100') and (chosen.get('stopped') or 0) < limit:
        return ''
    return f'training stopped at --epoch {limit} instead of up to {COURSE_EPOCHS}'


def run_blocks(sources, anchor, path, record, owners):
    config, results = record.get('config') or {}, record.get('results') or {}
    blocks = made_by(path, record, seeded=not _designed(config))
    cut = cut_short(record)
    if cut:
        blocks.append(shortened(sources, anchor, cut))
    blocks += restarts_table(record)
    printed = text_blocks(sources, record)
    accuracy = results.get('final_accuracy')
    if isinstance(accuracy, (int, float)) and not any(isinstance(b, Pre) for b in printed):
        blocks.append(Pre(f'Final Accuracy:  {round(accuracy, 2)}', 'The final accuracy line'))
    blocks += printed
    hid = config.get('hid')
    mine, replaced = [], []
    for recorded in results.get('pictures') or []:
        where = picture(path, recorded)
        if where is None:
            continue
        owner = owners.get(os.path.abspath(where))
        (mine if owner == path else replaced).append(where)
    blocks += figures([(where, caption(os.path.basename(where), hid)) for where in mine],
                      small=True)
    if replaced:
        names = ', '.join(os.path.basename(p) for p in replaced)
        blocks.append(para(f'Pictures not shown: {names} were overwritten by a later run in '
                           f'the same folder. Give each run its own --plot_dir (report.py '
                           f'--run does) to keep them.', kind='note'))
    return blocks
