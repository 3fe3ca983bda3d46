"""Part 2 of the page: the three perceptron runs, each with its final weights and accuracy,
the dividing lines, the activation table and the pictures.

Everything comes from the run record's data (nnlab/formats/check_run.py), rendered with
check_main.py's own formatting (nnlab/perceptron/console.py): no printed text is parsed.
"""
import os

from nnlab.formats import check_run
from nnlab.formats.check_run import CheckRun
from nnlab.page.common import figures, formatted, made_by, shortened, to_run, unreadable
from nnlab.page.doc import Heading, Pre, Table, para
from nnlab.page.sources import started_at
from nnlab.perceptron import console

COURSE_EPOCHS = 200000

QUESTIONS = (  # (key, title, does a record's config answer it)
    ('check_sig5', '1. A sigmoid network trained to 100% (5 hidden units)',
     lambda c: c.act == 'sig' and not c.designed),
    ('check_step4', '2. The hand-designed step network (4 hidden units)',
     lambda c: c.act == 'step'),
    ('check_sig4', '3. The same weights in a sigmoid network (multiplied by 10)',
     lambda c: c.act == 'sig' and c.designed),
)


def build(sources):
    blocks = [Heading(2, 'Part 2: a 2-layer perceptron on the 3x3 grid', 'part2')]
    found = sources.records(CheckRun, check_run.RECORDS, sources.plot_dir, 'part2')
    blocks += unreadable(sources, 'part2')
    owners = picture_owners(sources, found)
    used = set()
    for key, title, answers in QUESTIONS:
        anchor = f'part2-{key.removeprefix("check_")}'
        blocks.append(Heading(3, title, anchor))
        matches = [(p, r) for p, r in found if answers(r.config)]
        if key == 'check_sig5':     # the course's size first, then any other size
            matches.sort(key=lambda item: (item[1].results.hid == 5, started_at(item[1])))
        if not matches:
            blocks += to_run(sources, os.path.join(sources.plot_dir, check_run.RECORDS), key)
            continue
        path, record = matches[-1]
        used.add(path)
        blocks += run_blocks(sources, anchor, path, record, owners)
    others = [(p, r) for p, r in found if p not in used]
    if others:
        blocks.append(Heading(4, 'Other Part 2 runs found'))
        rows = tuple((r.command or '?', formatted(r.results.final_accuracy, '{:.2f}%'), r.status, p)
                     for p, r in others)
        blocks.append(Table(('command', 'final accuracy', 'status', 'run record'), rows))
    return blocks


def picture_owners(sources, found):
    """{picture file: record path} of the latest record listing it: runs that share a
    folder overwrite each other's check.jpg (and the two 4-unit runs hid_4_*, out_4)."""
    return {os.path.abspath(where): path      # oldest first: later runs take over
            for path, record in found
            for where in sources.located_all(path, record.results.pictures)}


def caption(name, hid):
    if name == check_run.INITIAL_PICTURE:
        return "The initial network's output (shaded where it predicts 1)"
    if name == check_run.output_picture(hid):
        return "The trained network's output: shaded where it predicts 1, hidden lines faint"
    for unit in range(hid):
        if name == check_run.hidden_picture(hid, unit):
            return f'Hidden unit h{unit}: shaded where it is on (>= 0.5), with its dividing line'
    if name == check_run.loss_picture(hid):
        return 'The training loss'
    return os.path.splitext(name)[0]


def weights_table(weights):
    """The four weight arrays, a row each, as the record holds them."""
    for name in ('in_hid_weight', 'hid_bias', 'hid_out_weight', 'out_bias'):
        values = getattr(weights, name)
        flat = [v for row in values for v in row] if values and isinstance(values[0], list) \
            else values
        yield name, ', '.join(f'{v:.4f}' for v in flat)


def analysis_blocks(record):
    """Final weights and accuracy, the dividing lines and the activation table."""
    results = record.results
    blocks = []
    if results.final_weights is not None:
        blocks.append(Table(('weights', 'values'), tuple(weights_table(results.final_weights)),
                            'Final weights (rows of in_hid_weight one after the other)'))
    if results.final_accuracy is not None:
        blocks.append(Pre(console.accuracy_line('Final Accuracy: ', results.final_accuracy),
                          'The final accuracy line'))
    if results.lines:
        blocks.append(Pre('\n'.join(console.dividing_line(line.unit, line.wx, line.wy,
                                                          line.bias) for line in results.lines),
                          'The dividing line of each hidden unit (the unit is on where the '
                          'left side is >= 0)'))
    if results.points:
        header = (*console.table_header(results.hid), 'wrong?')
        rows = tuple((*console.table_cells(p), 'wrong' if console.wrong(p) else '')
                     for p in results.points)
        blocks.append(Table(header, rows, 'Hidden and output activations for each of the '
                                          f'{len(rows)} points (on / class 1 where >= 0.5)'))
    return blocks


def restarts_table(record):
    results = record.results
    runs, kept = results.restarts, results.kept
    if len(runs) < 2:
        return []
    rows = tuple((str(i), str(run.seed), 'yes' if run.reached_100 else 'no',
                  '' if run.perfect_since is None else str(run.perfect_since), str(run.stopped),
                  formatted(run.final_loss),
                  formatted(run.final_accuracy, '{:.2f}%'), 'kept' if i == kept else '')
                 for i, run in enumerate(runs))
    won = sum(run.reached_100 for run in runs)
    first = (f' (--first: training ended when restart {kept} had finished; the others '
             f'as they were then)' if record.config.first and kept is not None else '')
    return [Table(('restart', 'seed', 'reached 100%', '100% from epoch', 'stopped after epoch',
                   'final loss', 'final accuracy', ''), rows,
                  f'Restarts: {won} of {len(runs)} reached 100%{first}')]


def cut_short(record):
    """Why a trained run is shorter than the course's, or '': only when its epoch limit
    (below the course's 200000) stopped the kept network before it finished."""
    limit, results = record.config.epoch, record.results
    if limit >= COURSE_EPOCHS or not results.restarts:
        return ''
    chosen = results.restarts[results.kept or 0]
    if chosen.reached_100 and chosen.stopped < limit:
        return ''
    return f'training stopped at --epoch {limit} instead of up to {COURSE_EPOCHS}'


def run_blocks(sources, anchor, path, record, owners):
    blocks = (made_by(path, record, seeded=not record.config.designed)
              + shortened(sources, anchor, cut_short(record))
              + restarts_table(record) + analysis_blocks(record))
    files = sources.located_all(path, record.results.pictures)
    mine = [where for where in files if owners.get(os.path.abspath(where)) == path]
    replaced = [where for where in files if where not in mine]
    blocks += figures(sources, [(where, caption(os.path.basename(where), record.results.hid))
                                for where in mine], small=True)
    if replaced:
        names = ', '.join(os.path.basename(p) for p in replaced)
        blocks.append(para(f'Pictures not shown: {names} were overwritten by a later run in '
                           f'the same folder. Give each run its own --plot_dir (report.py '
                           f'--run does) to keep them.', kind='note'))
    return blocks
