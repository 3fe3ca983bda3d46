"""What the explore page shows, gathered as plain data (JSON for the page's scripts).

Part 2: the points, check.py's hand design and the last trained network of the run
records in --plot_dir. Part 3: every seq_train.py checkpoint in --net_dir, grouped by run,
its weights as the flat float64 vector of parameters.Layout. Files are read only if they
are regular files inside the given folders (nnlab/page/sources.py); a file that cannot be
used becomes one line in its panel, never a traceback.
"""
import base64
import os

from nnlab.cli import UserError
from nnlab.explore import netgraph
from nnlab.files import matching
from nnlab.formats import check_run, kuzu_net, schema, seq_analysis
from nnlab.formats.check_run import CheckRun
from nnlab.page.sources import Sources, shown
from nnlab.recurrent.checkpoint import split_name

MAX_CHECKPOINT_BYTES = 20 * 2**20
MAX_CHECKPOINTS = 400            # far more than a course run saves; keeps the page small
MAX_KUZU_BYTES = 50 * 2**20
SAMPLES_PER_CLASS = 20


def part2(sources, points_path):
    """Points, the hand design and the last trained network (if a record has one)."""
    import check
    from nnlab.perceptron.data import DEFAULT_CSV, load_points
    inputs, targets = load_points(points_path or DEFAULT_CSV)
    points = [[x, y, t] for (x, y), (t,) in zip(inputs.tolist(), targets.tolist())]
    hand = {name: value.tolist() for name, value in check.hand_designed_weights().items()}
    data = {'points': points, 'source': shown(points_path or DEFAULT_CSV),
            'hand': hand, 'sig_scale': check.SIG_SCALE, 'trained': None, 'notes': [],
            'training': perceptron_settings()}
    edited = perceptron_differs(inputs, targets, len(hand['hid_bias']))
    if edited:
        data['notes'].append(edited)
    found = sources.records(CheckRun, check_run.RECORDS, sources.plot_dir, 'part2')
    for path, reason in sources.problems_of('part2'):
        data['notes'].append(f"{shown(path)} cannot be read ({reason}); run "
                             f"check_main.py --act sig --hid 5 to make a new one")
    trained = [(path, r) for path, r in found
               if r.results.restarts and r.results.final_weights is not None]
    if trained:
        path, record = trained[-1]
        weights, accuracy = record.results.final_weights, record.results.final_accuracy
        data['trained'] = {
            'label': f"{shown(path)} ({record.config.act}, hid {record.results.hid}"
                     f"{'' if accuracy is None else f', {accuracy:g}%'})",
            'act': record.config.act, 'weights': schema.to_dict(weights)}
    elif not data['notes']:
        data['notes'].append(f"no trained network in {shown(sources.plot_dir)}: run "
                             f"check_main.py --act sig --hid 5 to offer one here")
    return data


def perceptron_differs(inputs, targets, hid):
    """None where check.py's MLP computes what the page's Part 2 computes (the shipped MLP,
    or one the engine's probe finds equal, nnlab/engine.py), else one line why the page
    shows the shipped MLP's lines and accuracy, not that file's (probed at `hid` units, the
    hand design's size)."""
    from nnlab import engine, student
    from nnlab.perceptron import autograd
    path, _, _, shipped, _ = engine.first_look('check', 'MLP')
    if shipped or path is None:
        return None
    check = student.load('check', need=('MLP',))
    with student.blame('check', None, 'comparing the MLP with the page'):
        net = check.MLP(hid, 'sig')
        differs = autograd.probe(net, inputs, targets)
    if differs is None:
        return None
    return (f"check.py's MLP is not the shipped one and computes otherwise (probe: {differs}): "
            f"this panel runs the shipped MLP (sigmoid or step units, check_main.py's loss), "
            f"so its lines, accuracy and training are not your network's")


def perceptron_settings():
    """What Part 2's Train, random start and checks of a weights file use, from where
    check_main.py takes it: --lr's and --init's defaults, Adam's settings, the weight decay,
    the stopping streak, the loss's clamps, and a weights file's names, bounds and hint
    (formats/check_weights.py)."""
    import check_main
    from nnlab.formats import check_weights
    from nnlab.perceptron import kernels
    parser = check_main.build_parser()
    return {'lr': parser.get_default('lr'), 'init': parser.get_default('init'),
            'adam': adam_settings(),
            'weight_decay': kernels.WEIGHT_DECAY, 'streak': kernels.STREAK,
            'log_every': kernels.LOG_EVERY, 'bce_eps': kernels.BCE_EPS,
            'bce_log_floor': kernels.BCE_LOG_FLOOR, 'max_weight': check_weights.MAX_WEIGHT,
            'max_file_bytes': check_weights.MAX_BYTES, 'names': list(check_weights.NAMES),
            'hint': check_weights.HINT}


def _language(network):
    """What the page needs to generate strings of the language and know the true next
    symbols: the counting multiples and length, or Reber's transition table."""
    from nnlab.recurrent.languages import get_spec
    spec = get_spec(network.lang)
    language = spec.make(embed=network.embed, length=network.length)
    if spec.is_reber:
        return {'kind': 'reber', 'symbols': language.symbols,
                'next': language.next_node.tolist(), 'max_state': int(language.max_state)}
    from anb2n import P_MORE_A
    return {'kind': 'counting', 'symbols': language.symbols,
            'multiples': list(language.multiples), 'length': language.length,
            'max_state': int(language.max_state), 'p_more_a': P_MORE_A}


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
    if not checkpoint.kernel_trained(meta):
        return (f"it was trained by PyTorch autograd with an edited {network.model.upper()} "
                f"of seq_models.py, which the page does not run (it runs the shipped "
                f"models' maths); seq_plot.py analyses it")
    row = Layout(network.model, meta.num_input, network.hid).from_model(model)
    return _network_entry(os.path.basename(path)[:-len('.pth')], meta.thousands, network,
                          meta.num_input, row.tolist())


def _network_entry(name, thousands, network, symbols, weights, **more):
    """What the page knows of a network of Part 3: a checkpoint or a file the page saved."""
    return {'name': name, 'thousands': thousands, 'kind': network.model, 'hid': network.hid,
            'symbols': symbols, 'weights': weights, 'language': _language(network),
            'lang': network.lang + ('_embed' if network.embed else ''), **more}


def _machine(sources, stem, notes):
    """The state machine seq_plot.py --fsm extracted for run `stem`: its printed text, the
    checkpoint it looked at and the machine as data (nnlab/formats/seq_analysis.py
    MachineRecord: the page assigns the network's state to a cluster as the analysis did
    and lights that state's lines), or None."""
    from nnlab.formats.seq_analysis import Analysis
    path = seq_analysis.record_path(sources.plot_dir, stem)
    analysis = sources.load('part3', path, Analysis)
    for problem_path, reason in sources.problems_of('part3'):
        if problem_path == path:
            notes.append(f"{shown(path)} cannot be read ({reason}); run seq_plot.py --fsm "
                         f"again to make it")
    if analysis is None or analysis.fsm is None:
        return None
    found = analysis.fsm
    table = None
    if found.centres:
        table = {'start': found.start, 'lines': found.lines, 'centres': found.centres,
                 'scale': found.scale, 'withCell': found.with_cell,
                 'stateOfCluster': found.state_of_cluster}
    else:
        notes.append(f"{shown(path)} holds the machine only as text (an earlier version "
                     f"wrote it): run {analysis.command or 'seq_plot.py --fsm'} again to "
                     f"follow its states here")
    return {'checkpoint': os.path.basename(analysis.checkpoint), 'text': found.text,
            'command': analysis.command, 'table': table}


def train_settings():
    """What the train mode offers, from the language registry: per language (the embedded
    Reber grammar as one more) its generator, seq_train.py's defaults per model, the
    criterion and its text for 1..10 checks."""
    from nnlab.formats.seq_page_network import PageNetwork
    from nnlab.recurrent import languages
    from nnlab.recurrent.languages import Network
    from nnlab.recurrent.trainer import VERDICT_CHECKS
    entries = []
    for name, spec in languages.SPECS.items():
        for embed in ((False, True) if spec.is_reber else (False,)):
            network = Network(name, embed, None if spec.is_reber else spec.default_length)
            entries.append({
                'name': name + ('_embed' if embed else ''),
                'label': name + (' (embedded)' if embed else ''),
                'lang': name, 'embed': embed, 'length': network.length,
                'language': _language(network),
                'defaults': {model: spec.defaults(model) for model in languages.MODELS},
                'metric': spec.metric, 'threshold': spec.threshold,
                'consistently': spec.consistently,
                'criteria': [spec.criterion_text(k) for k in range(1, VERDICT_CHECKS + 1)]})
    return {'languages': entries, 'srn_std': languages.SRN_INIT_STD,
            'max_hid': languages.MAX_HID, 'format': PageNetwork.FORMAT,
            'engine': engine_settings()}


def engine_settings():
    """The constants of seq_train.py's training the page's engine uses (part3engine.js),
    from the modules that define them."""
    from nnlab.recurrent.example import STRINGS_PER_EXAMPLE
    from nnlab.recurrent.generalise import DEFAULT_N
    from nnlab.recurrent.trainer import CHECK_EVERY, VERDICT_CHECKS
    return {'check_every': CHECK_EVERY, 'verdict_checks': VERDICT_CHECKS,
            'strings_per_example': STRINGS_PER_EXAMPLE, 'generalise_n': DEFAULT_N,
            'adam': adam_settings()}


def adam_settings():
    """torch.optim.Adam's betas and eps, as nnlab/compiled.py's adam_step uses them."""
    from nnlab.compiled import ADAM_BETAS, ADAM_EPS
    return {'beta1': ADAM_BETAS[0], 'beta2': ADAM_BETAS[1], 'eps': ADAM_EPS}


def _page_network(sources, path):
    """A network the page saved, as a checkpoint of the stepper; None for another kind of
    JSON file (seq_train.py's run records live there too); a reason string if refused."""
    from nnlab.formats.seq_page_network import MAX_BYTES, PageNetwork
    from nnlab.recurrent import page_network
    if not sources.readable(path):
        return None
    try:
        data = schema.parse_json(schema.read_bytes(path, MAX_BYTES))
    except schema.FormatError:
        return None
    if not isinstance(data, dict) or data.get('format') != PageNetwork.FORMAT:
        return None
    try:
        doc = page_network.read(path)
    except UserError as err:
        return str(err)
    return _network_entry(page_network.stem(path), doc.training.examples / 1000, doc.network,
                          doc.num_symbols, list(doc.weights), file=os.path.basename(path))


def part3(sources):
    """Runs (checkpoints of one name, by thousands), the networks the page saved, the
    train mode's settings and the lines of files refused."""
    folder = sources.net_dir
    runs, notes = {}, []
    for path in matching(folder, '*.json')[:MAX_CHECKPOINTS]:
        found = _page_network(sources, path)
        if isinstance(found, str):
            notes.append(f"{shown(path)} left out: {found}")
        elif found:
            runs[found['name']] = [found]
    paths = [p for p in matching(folder, '*.pth') if not os.path.basename(p).startswith('kuzu_')]
    for path in paths[:MAX_CHECKPOINTS]:
        parts = split_name(os.path.basename(path))
        if not parts:
            continue
        found = _checkpoint(sources, path)
        if isinstance(found, str):
            notes.append(f"{shown(path)} left out: {found}")
            continue
        runs.setdefault(parts[0], []).append(found)
    if len(paths) > MAX_CHECKPOINTS:
        notes.append(f"only the first {MAX_CHECKPOINTS} of {len(paths)} checkpoints in "
                     f"{shown(folder)} are shown")
    listed = [{'stem': name, 'checkpoints': sorted(found, key=lambda c: c['thousands']),
               'machine': _machine(sources, name, notes)}
              for name, found in sorted(runs.items())]
    if not listed:
        where = shown(folder)
        refused = f" ({notes[0]}{f' and {len(notes) - 1} more' if len(notes) > 1 else ''})" \
            if notes else ''
        notes = [f"no usable checkpoint in {where}{refused}: run python3 seq_train.py --lang "
                 f"anb2n (it saves {where}/anb2n_srn2_*.pth), then explore.py again"]
    return {'runs': listed, 'notes': notes, 'train': train_settings()}


class Unrunnable(str):
    """Why the page cannot run a net that loaded (not a problem of the file)."""


def saved_hid(name, path, state, sources):
    """(NetFull's hidden size, note or None) of a saved net: what kuzu_main.py --save
    recorded beside it (nnlab/formats/kuzu_net.py); for a file without a readable record
    (saved before there was one), read from its first weight matrix, and a note says so."""
    from nnlab.kmnist.nets import hidden_size_of
    record = kuzu_net.record_path(path)
    why = f'there is no {shown(record)} beside it (saved by an earlier version?)'
    if sources.readable(record):
        try:
            saved = schema.load(record, kuzu_net.SavedNet)
        except schema.FormatError as err:
            why = f'{shown(record)} cannot be read ({err})'
        else:
            if saved.net == name:
                return saved.hid, None
            why = f'{shown(record)} says it is --net {saved.net}'
    if name != 'full':
        return None, None
    hid = hidden_size_of(state)
    return hid, (f"{shown(path)}: {why}; its hidden size, {hid}, is read from its weights "
                 f"(kuzu_main.py --net full --save {shown(path)} writes the record)")


def _kuzu_net(name, path, sources, notes):
    """{'name', 'hid', 'graph': netgraph.export_net's} of a saved KMNIST net, or a reason
    string (an Unrunnable when the file is fine but the page cannot run the net); a note
    about the file goes to `notes`."""
    import torch

    from nnlab import student
    from nnlab.kmnist.nets import make_net
    if os.path.getsize(path) > MAX_KUZU_BYTES:
        return f'it is over {MAX_KUZU_BYTES // 2**20} MB, too large for a KMNIST net'
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception:       # torch raises many kinds for a damaged or foreign file
        return 'it is not a readable state dict (damaged or another kind of file)'
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        return 'it is not a state dict of tensors'
    hid, note = saved_hid(name, path, state, sources)
    if note:
        notes.append(note)
    try:
        net = make_net(name, hid)
    except UserError as err:        # a mistake in kuzu.py: its one line, the other parts work
        return Unrunnable(str(err))
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, ValueError) as err:
        return f'it does not fit kuzu.py\'s Net{name.capitalize()} ({str(err).splitlines()[0]})'
    if not all(torch.isfinite(t).all() for t in net.state_dict().values()
               if t.is_floating_point()):
        return 'it holds weights that are not finite numbers'
    try:
        with student.blame('kuzu', None, 'while torch.export traced it for the page'):
            graph = netgraph.export_net(net)
    except netgraph.Unsupported as err:
        return Unrunnable(f'the page cannot run it: it uses {err} (the page runs '
                          f'{netgraph.NAMES_SHOWN})')
    except UserError as err:        # raised inside kuzu.py
        return Unrunnable(str(err))
    except Exception as err:        # torch.export on the student's forward
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return Unrunnable(f'torch.export cannot trace it for the page ({first})')
    return {'name': name, 'hid': hid, 'graph': graph}


def _test_samples(data_dir):
    """SAMPLES_PER_CLASS test images of each class (uint8, base64) and their labels, or a
    reason string."""
    import numpy as np

    from nnlab.kmnist import data as kmnist
    root = data_dir or kmnist.default_root()
    if kmnist.missing_files(root) and not data_dir and not kmnist.missing_files(
            kmnist.SHARED_COPY):
        root = kmnist.SHARED_COPY
    if kmnist.missing_files(root):
        return (f"no KMNIST test images in {shown(os.fspath(root))} (for the samples and "
                f"the class pictures): pass --data DIR, the folder holding KMNIST/raw")
    try:
        images, labels = kmnist.load_split(root, 'test')
    except UserError as err:
        return str(err)
    pixels = np.rint((images[:, 0].numpy() * 0.5 + 0.5) * 255).astype(np.uint8)
    labels = labels.numpy()
    chosen = np.concatenate([np.flatnonzero(labels == c)[:SAMPLES_PER_CLASS]
                             for c in range(10)])
    return {'pixels': base64.b64encode(pixels[chosen].tobytes()).decode('ascii'),
            'labels': labels[chosen].tolist()}


def part1(sources, data_dir):
    """The saved KMNIST nets in --net_dir and a sample of the test images."""
    from nnlab.kmnist.facts import CLASSES, NETS
    nets, notes = [], []
    for name in NETS:
        path = kuzu_net.saved_path(sources.net_dir, name)
        if not os.path.lexists(path):
            continue
        found = _kuzu_net(name, path, sources, notes) if sources.readable(path) else \
            'it is not a regular file inside the folder'
        if isinstance(found, Unrunnable):
            notes.append(f"{shown(path)} left out: {found}")
        elif isinstance(found, str):
            notes.append(f"{shown(path)} left out: {found}; run python3 kuzu_main.py --net "
                         f"{name} --save {shown(path)} to make it again")
        else:
            nets.append(found)
    if not nets and not notes:
        where = shown(kuzu_net.saved_path(sources.net_dir, 'conv'))
        notes.append(f"no KMNIST net in {shown(sources.net_dir)}: run python3 kuzu_main.py "
                     f"--net conv --save {where} (or report.py --run), then explore.py "
                     f"again")
    samples = _test_samples(data_dir)
    if isinstance(samples, str):
        notes.append(samples)
        samples = None
    return {'nets': nets, 'samples': samples, 'classes': list(CLASSES), 'notes': notes}


def gather(plot_dir, net_dir, out_dir, points_path=None, data_dir=None):
    """Everything the page's scripts read, as JSON-ready data."""
    sources = Sources(plot_dir, net_dir, out_dir, say=lambda line: None)
    return {'part1': part1(sources, data_dir), 'part2': part2(sources, points_path),
            'part3': part3(sources)}
