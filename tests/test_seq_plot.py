"""seq_plot.py as a user runs it: printed parameters and examples, the pictures with the
course's names, the state machine and counter analysis, and clean failures."""
import re
import shutil

import numpy as np
import pytest
import torch
from conftest import assert_one_line_error
from PIL import Image
from seq_handnet import COUNTER, DELTA, STATES, hand_built_srn

import seq_models
import seq_plot
from nnlab.cli import UserError
from nnlab.formats.seq_checkpoint import CheckpointMeta
from nnlab.recurrent import checkpoint
from nnlab.recurrent.languages import Network

TRANSITION = re.compile(r'^(s\d+)\s+([A-Z])\s+(s\d+)\s+(\d+)(\s+non-deterministic.*)?$')


def save_checkpoint(folder, model, lang, kind, hid, thousands, length):
    meta = CheckpointMeta(network=Network(lang, False, length, kind, hid),
                          num_input=model.num_input, num_out=model.num_out,
                          thousands=thousands, seed=0)
    path = checkpoint.checkpoint_path(folder, lang, kind, hid, thousands)
    return checkpoint.save(path, model, meta)


def machine_sections(stdout):
    """The extracted machine's transition rows {(from, symbol): (to, count, nondet)} and
    the minimal machine's, if printed."""
    tables, current = [], None
    for line in stdout.splitlines():
        if line.startswith('state machine:') or line.startswith('minimal machine:'):
            current = {}
            tables.append(current)
        m = TRANSITION.match(line)
        if m and current is not None:
            current[(m.group(1), m.group(2))] = (m.group(3), int(m.group(4)),
                                                 bool(m.group(5)))
    return tables


# ---------------------------------------------------------------- a net we know

@pytest.fixture(scope='module')
def hand_run(tmp_path_factory, run_module):
    folder = tmp_path_factory.mktemp('hand')
    save_checkpoint(folder / 'net', hand_built_srn(), 'anbn', 'srn', 7, 5, 3)
    result = run_module('seq_plot.py', '--lang', 'anbn', '--hid', '7', '--epoch', '5',
                        '--out_path', folder / 'net', '--plot_dir', folder / 'plot',
                        '--num_plot', '2', '--fsm', '--explain', '--examples', '90')
    assert result.returncode == 0, result.stderr
    return folder, result.stdout


@pytest.fixture(scope='module')
def run_module():
    from conftest import run_script
    return run_script


@pytest.mark.slow
def test_prints_parameters_and_examples(hand_run):
    _, out = hand_run
    for name in ('H0', 'W', 'U', 'hid_bias', 'V', 'out_bias'):
        assert re.search(rf'^{name} tensor\(', out, re.M), name
    assert out.count('-----') == 2
    assert out.count('hidden activations and output probabilities:') == 2
    assert re.findall(r'^epoch: (\d+)$', out, re.M) == ['0', '1']
    rows = re.findall(r'^[AB] \[([-\d. ]+)\] \[([\d. ]+)\]$', out, re.M)
    assert rows and all(len(h.split()) == 7 and len(p.split()) == 2 for h, p in rows)


@pytest.mark.slow
def test_writes_the_pictures_with_the_course_names(hand_run):
    folder, out = hand_run
    plot = folder / 'plot'
    pairs = [f'{j}{k}' for j in range(7) for k in range(j + 1, 7)]
    expected = {f'anbn_srn7_{p}.jpg' for p in pairs}
    expected |= {f'anbn_srn7_{p}_fsm.jpg' for p in pairs}
    expected |= {'anbn_srn7_3d.jpg', 'anbn_srn7_3d_views.jpg', 'anbn_srn7_3d.gif',
                 'anbn_srn7_fsm.jpg', 'anbn_srn7_explain.jpg', 'anbn_srn7_analysis.json'}
    assert {p.name for p in plot.iterdir()} == expected
    for name in expected:
        assert f'saved {plot / name}' in out
    with Image.open(plot / 'anbn_srn7_01.jpg') as im:
        assert im.format == 'JPEG' and im.size[0] > 300
    with Image.open(plot / 'anbn_srn7_3d.gif') as gif:
        assert gif.format == 'GIF' and gif.n_frames > 10


@pytest.mark.slow
def test_analysis_record_holds_what_was_printed(hand_run):
    import json
    folder, out = hand_run
    analysis = json.loads((folder / 'plot' / 'anbn_srn7_analysis.json').read_text())
    assert analysis['fsm']['states'] == analysis['fsm']['minimal_states'] == 6
    assert analysis['fsm']['text'] in out and analysis['explain']['text'] in out
    assert analysis['fsm']['accepted'] == analysis['fsm']['examples'] == 30
    # it knows n = 1..3 only: from n = 4 on, the machine has no transition (no 4th A)
    assert analysis['fsm']['agrees_up_to'] == 3
    assert 'they first differ on n = 4' in analysis['fsm']['text']
    assert analysis['checkpoint'].endswith('anbn_srn7_5.pth')
    machine = analysis['fsm']                    # as data too: what the explore page uses
    assert machine['start'] == 's0' and len(machine['centres']) == 6
    assert sorted(machine['lines']) == sorted(machine['moves']) == [f's{i}' for i in range(6)]
    assert set(machine['moves']['s0']) <= set(machine['symbols'])


@pytest.mark.slow
def test_extracts_the_machine_it_was_built_with(hand_run):
    _, out = hand_run
    assert re.search(r'^state machine: 6 states, start state s0$', out, re.M)
    assert 'merging states' not in out          # the hand-built machine is minimal
    (table,) = machine_sections(out)
    assert len(table) == len(DELTA)
    assert not any(nondet for _, _, nondet in table.values())
    # the same graph up to names: follow both machines over every string of anbn
    rename = {'s0': 'S0'}
    for n in range(1, 4):
        state, mine = 'S0', 's0'
        for symbol in 'A' * n + 'B' * n:
            state = DELTA[(state, 'AB'.index(symbol))]
            mine = table[(mine, symbol)][0]
            assert rename.setdefault(mine, state) == state
    assert sorted(rename.values()) == sorted(STATES)
    m = re.search(r'accepts (\d+)/(\d+) example strings', out)
    assert m.group(1) == m.group(2) == '30'
    det = re.search(r'^machine\s+\d+/\d+\s+\([\d. ]+%\)\s+(\d+)/(\d+)', out, re.M)
    assert det.group(1) == det.group(2)


@pytest.mark.slow
def test_names_the_counting_unit(hand_run):
    _, out = hand_run
    assert re.search(rf"^  B's to come  h{COUNTER} \(0\.9\d", out, re.M)
    header = next(line for line in out.splitlines() if line.startswith('unit '))
    assert header.split()[1:] == ["A's", 'seen', "B's", 'to', 'come', 'phase', 'A']


# ---------------------------------------------------------------- short real trainings

@pytest.fixture(scope='module')
def trained(tmp_path_factory, run_module):
    folder = tmp_path_factory.mktemp('trained')
    result = run_module('seq_train.py', '--lang', 'anb2n', '--epoch', '2',
                        '--out_path', folder / 'net')
    assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.slow
def test_plots_a_trained_srn_reproducibly(trained, run_module):
    args = ['--lang', 'anb2n', '--epoch', '2', '--out_path', trained / 'net',
            '--num_plot', '1', '--fsm', '--examples', '40', '--seed', '3']
    first = run_module('seq_plot.py', *args, '--plot_dir', trained / 'a')
    second = run_module('seq_plot.py', *args, '--plot_dir', trained / 'b')
    assert first.returncode == 0, first.stderr
    assert first.stdout.replace('/a/', '/b/') == second.stdout
    assert {p.name for p in (trained / 'a').iterdir()} == {
        'anb2n_srn2_01.jpg', 'anb2n_srn2_01_fsm.jpg', 'anb2n_srn2_fsm.jpg',
        'anb2n_srn2_loss.jpg', 'anb2n_srn2_analysis.json'}
    with Image.open(trained / 'a' / 'anb2n_srn2_loss.jpg') as im:   # from the checks
        assert im.format == 'JPEG' and im.size[0] > 500
    tables = machine_sections(first.stdout)
    assert tables and all(tables)
    states = int(re.search(r'^state machine: (\d+) states', first.stdout, re.M).group(1))
    for (src, symbol), (dst, count, _) in tables[0].items():
        assert symbol in 'AB' and count > 0
        assert int(src[1:]) < states and int(dst[1:]) < states
    assert re.search(r'^network\s+\d+/\d+\s+\(', first.stdout, re.M)


@pytest.mark.slow
def test_lstm_context_units(tmp_path, run_module):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / 'net', seq_models.LSTM_model(3, 3, 3), 'anb2nc3n', 'lstm', 3,
                    1, 4)
    result = run_module('seq_plot.py', '--lang', 'anb2nc3n', '--model', 'lstm', '--hid',
                        '3', '--epoch', '1', '--out_path', tmp_path / 'net', '--plot_dir',
                        tmp_path / 'plot', '--num_plot', '1', '--context')
    assert result.returncode == 0, result.stderr
    assert 'hidden activations, context (cell) units and output probabilities:' \
        in result.stdout
    rows = re.findall(r'^[ABC] (\[.*?\]) (\[.*?\]) (\[.*?\])$', result.stdout, re.M)
    assert rows and all(len(r[1].strip('[]').split()) == 3 for r in rows)
    names = {p.name for p in (tmp_path / 'plot').iterdir()}
    for infix in ('', 'ctx_'):
        for suffix in ('01.jpg', '02.jpg', '12.jpg', '3d.jpg', '3d_views.jpg', '3d.gif'):
            assert f'anb2nc3n_lstm3_{infix}{suffix}' in names


# ---------------------------------------------------------------- failures

@pytest.mark.slow
def test_missing_checkpoint_lists_the_epochs_saved(trained, run_module):
    result = run_module('seq_plot.py', '--lang', 'anb2n', '--epoch', '7',
                        '--out_path', trained / 'net', '--plot_dir', trained / 'x')
    assert_one_line_error(result, 'anb2n_srn2_7.pth', 'epochs saved', ': 2')
    assert not (trained / 'x').exists()


@pytest.mark.slow
def test_mismatched_and_corrupt_checkpoints(trained, run_module, tmp_path):
    shutil.copy(trained / 'net' / 'anb2n_srn2_2.pth', tmp_path / 'anb2n_srn3_2.pth')
    (tmp_path / 'anb2n_srn2_4.pth').write_bytes(b'not a checkpoint')
    result = run_module('seq_plot.py', '--lang', 'anb2n', '--hid', '3', '--epoch', '2',
                        '--out_path', tmp_path, '--plot_dir', tmp_path / 'plot')
    assert_one_line_error(result, 'hid=2')
    with pytest.raises(UserError, match='not a readable'):
        seq_plot.main(['--lang', 'anb2n', '--epoch', '4', '--out_path', str(tmp_path)])


@pytest.mark.parametrize('flags, message', [
    (['--model', 'srn', '--context'], "the srn has none"),
    (['--states', '5'], '--states fixes the number of states of --fsm'),
    (['--lang', 'reber', '--explain'], 'for reber use --fsm'),
    (['--num_plot', '0'], '--num_plot'),
    (['--epoch', 'abc'], '--epoch'),
    (['--lang', 'anbx'], '--lang'),
    (['--lang', 'reber', '--length', '3'], '--length'),
])
def test_bad_flags_fail_with_one_line(flags, message):
    with pytest.raises(UserError, match=re.escape(message)):
        seq_plot.parse_args(flags)


def test_bad_flag_from_the_command_line(run_module):
    assert_one_line_error(run_module('seq_plot.py', '--num_plot', '-1'), '--num_plot')


@pytest.mark.slow
def test_too_many_states_asked(trained):
    with pytest.raises(UserError, match='distinct hidden vectors'):
        seq_plot.main(['--lang', 'anb2n', '--epoch', '2', '--out_path', str(trained / 'net'),
                       '--plot_dir', str(trained / 'many'), '--num_plot', '1', '--fsm',
                       '--examples', '5', '--states', '5000'])


@pytest.mark.slow
def test_unwritable_plot_folder(trained, run_module):
    blocker = trained / 'a_file'
    blocker.write_text('x')
    result = run_module('seq_plot.py', '--lang', 'anb2n', '--epoch', '2', '--out_path',
                        trained / 'net', '--plot_dir', blocker / 'plot', '--num_plot', '1')
    assert_one_line_error(result, 'cannot')


def test_trace_of_padded_batch_equals_single_runs():
    # the analysis runs examples of different lengths in one padded batch
    from nnlab.recurrent import languages
    from nnlab.recurrent.trace import trace_model
    lang = languages.make_language('anb2n')
    examples = lang.sample_many(np.random.default_rng(0), 5)
    model = seq_models.SRN_model(2, 2, 2)
    batch = trace_model(model, examples)
    for i, ex in enumerate(examples):
        alone = trace_model(model, [ex])
        assert np.allclose(alone.hidden[0], batch.hidden[i], atol=1e-6)
        assert np.allclose(alone.probs[0], batch.probs[i], atol=1e-6)
