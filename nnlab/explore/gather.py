"""What the explore page shows, gathered as plain data (JSON for the page's scripts).

Part 2: the points, check.py's hand design and the last trained network of the run
records in --plot_dir. Part 3: every seq_train.py checkpoint in --net_dir, grouped by run,
its weights as the flat float64 vector of parameters.Layout. Files are read only if they
are regular files inside the given folders (nnlab/page/sources.py); a file that cannot be
used becomes one line in its panel, never a traceback.
"""
import glob
import os
import re

from nnlab.cli import UserError
from nnlab.formats.check_run import CheckRun
from nnlab.page.sources import Sources, shown

MAX_CHECKPOINT_BYTES = 20 * 2**20
MAX_CHECKPOINTS = 400            # far more than a course run saves; keeps the page small
CHECKPOINT_NAME = re.compile(r'(.+)_(\d+(?:\.\d+)?)\.pth')


def part2(sources, points_path):
    """Points, the hand design and the last trained network (if a record has one)."""
    import check
    from nnlab.perceptron.data import DEFAULT_CSV, load_points
    inputs, targets = load_points(points_path or DEFAULT_CSV)
    points = [[x, y, t] for (x, y), (t,) in zip(inputs.tolist(), targets.tolist())]
    hand = {name: value.tolist() for name, value in check.hand_designed_weights().items()}
    data = {'points': points, 'source': shown(points_path or DEFAULT_CSV),
            'hand': hand, 'sig_scale': check.SIG_SCALE, 'trained': None, 'notes': []}
    found = sources.records(CheckRun, 'check_*_run.json', sources.plot_dir, 'part2')
    for path, reason in sources.problems_of('part2'):
        data['notes'].append(f"{shown(path)} cannot be read ({reason}); run "
                             f"check_main.py --act sig --hid 5 to make a new one")
    trained = [(path, r) for path, r in found
               if r.results.restarts and r.results.final_weights is not None]
    if trained:
        path, record = trained[-1]
        weights = record.results.final_weights
        data['trained'] = {
            'label': f"{shown(path)} ({record.config.act}, hid {record.results.hid}, "
                     f"{record.results.final_accuracy:g}%)",
            'act': record.config.act,
            'weights': {'in_hid_weight': weights.in_hid_weight, 'hid_bias': weights.hid_bias,
                        'hid_out_weight': weights.hid_out_weight,
                        'out_bias': weights.out_bias}}
    elif not data['notes']:
        data['notes'].append(f"no trained network in {shown(sources.plot_dir)}: run "
                             f"check_main.py --act sig --hid 5 to offer one here")
    return data


def _language(network):
    """What the page needs to generate strings of the language and know the true next
    symbols: the counting multiples and length, or Reber's transition table."""
    from nnlab.recurrent.languages import get_spec
    spec = get_spec(network.lang)
    language = spec.make(embed=network.embed, length=network.length)
    if spec.is_reber:
        return {'kind': 'reber', 'symbols': language.symbols,
                'next': language.next_node.tolist(), 'max_state': int(language.max_state)}
    return {'kind': 'counting', 'symbols': language.symbols,
            'multiples': list(language.multiples), 'length': language.length,
            'max_state': int(language.max_state)}


def _checkpoint(sources, path):
    """{'name', 'thousands', 'weights', ...} of one checkpoint, or a reason string."""
    from nnlab.recurrent import checkpoint
    from nnlab.recurrent.parameters import Layout
    if not sources.readable(path):
        return 'it is not a regular file inside the folder'
    if os.path.getsize(path) > MAX_CHECKPOINT_BYTES:
        return f'it is over {MAX_CHECKPOINT_BYTES // 2**20} MB, too large for a checkpoint'
    try:
        model, meta = checkpoint.load(path)
    except UserError as err:
        return str(err)
    network = meta.network
    row = Layout(network.model, meta.num_input, network.hid).from_model(model)
    return {'name': os.path.basename(path)[:-len('.pth')], 'thousands': meta.thousands,
            'kind': network.model, 'hid': network.hid, 'symbols': meta.num_input,
            'weights': row.tolist(), 'language': _language(network),
            'lang': network.lang + ('_embed' if network.embed else '')}


def part3(sources):
    """Runs (checkpoints of one name, by thousands) and the lines of files refused."""
    folder = sources.net_dir
    runs, notes = {}, []
    paths = sorted(glob.glob(os.path.join(glob.escape(folder), '*.pth')))
    paths = [p for p in paths if not os.path.basename(p).startswith('kuzu_')]
    for path in paths[:MAX_CHECKPOINTS]:
        match = CHECKPOINT_NAME.fullmatch(os.path.basename(path))
        if not match:
            continue
        found = _checkpoint(sources, path)
        if isinstance(found, str):
            notes.append(f"{shown(path)} left out: {found}")
            continue
        runs.setdefault(match.group(1), []).append(found)
    if len(paths) > MAX_CHECKPOINTS:
        notes.append(f"only the first {MAX_CHECKPOINTS} of {len(paths)} checkpoints in "
                     f"{shown(folder)} are shown")
    listed = [{'stem': name, 'checkpoints': sorted(found, key=lambda c: c['thousands'])}
              for name, found in sorted(runs.items())]
    if not listed:
        where = shown(folder)
        refused = f" ({notes[0]}{f' and {len(notes) - 1} more' if len(notes) > 1 else ''})" \
            if notes else ''
        notes = [f"no usable checkpoint in {where}{refused}: run python3 seq_train.py --lang "
                 f"anb2n (it saves {where}/anb2n_srn2_*.pth), then explore.py again"]
    return {'runs': listed, 'notes': notes}


def gather(plot_dir, net_dir, out_dir, points_path=None):
    """Everything the page's scripts read, as JSON-ready data."""
    sources = Sources(plot_dir, net_dir, out_dir, say=lambda line: None)
    return {'part2': part2(sources, points_path), 'part3': part3(sources)}
