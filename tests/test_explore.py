"""explore.py's page in headless Chromium (tests/browser.py finds it): Part 1's drawing
panel, Part 2's designer and Part 3's stepper driven through window.explore and the mouse,
compared with torch's float64 models, check_main.py and its compiled kernel."""
import json
import os
import re
import statistics

import numpy as np
import pytest
from bad_weights import BAD_WEIGHTS
from browser import Watched
from conftest import assert_one_line_error

import check
from nnlab.cli import UserError
from nnlab.explore import gather, page
from nnlab.formats import schema
from nnlab.formats.seq_analysis import Analysis, MachineRecord
from nnlab.formats.seq_checkpoint import CheckpointMeta
from nnlab.perceptron.weights import load_weights_file
from nnlab.recurrent import checkpoint
from nnlab.recurrent.languages import Network
from nnlab.recurrent.parameters import Layout

# (language, model, hidden units, symbols): one network of each kind
NETWORKS = [('anb2n', 'srn', 2, 2), ('anb2nc3n', 'lstm', 3, 3), ('reber', 'gru', 4, 7)]
HAND = {name: value.tolist() for name, value in check.hand_designed_weights().items()}
# docs/part2.md's two-unit design: wrong where x + y = 3
TWO_UNITS = {'in_hid_weight': [[1, 1], [1, 1]], 'hid_bias': [-0.5, -1.5],
             'hid_out_weight': [[1, -1]], 'out_bias': [-0.5]}


def make_checkpoints(folder, thousands=(10, 20)):
    """Checkpoints of random weights (std 1, so the states move far) as seq_train.py
    saves them."""
    rng = np.random.default_rng(0)
    for lang, kind, hid, symbols in NETWORKS:
        for at in thousands:
            row = rng.normal(0.0, 1.0, Layout(kind, symbols, hid).size)
            meta = CheckpointMeta(network=Network(lang=lang, model=kind, hid=hid),
                                  num_input=symbols, num_out=symbols, thousands=at)
            checkpoint.save_weights(checkpoint.checkpoint_path(folder, lang, kind, hid, at),
                                    kind, symbols, hid, row, meta)


# seq_plot.py --fsm's printout of a 2-state machine (nnlab/recurrent/fsm.py's format)
MACHINE = """
finite state machine in the hidden space of 10 fresh examples (60 points):
state machine: 2 states, start state s0
(number of states: given; no two behave alike)
state  points  predicts
s0         30  A 0.80  B 0.20   (start)
s1         30  B 0.90
from  on  to   count
s0    A   s0       20
s0    B   s1       10
s1    B   s1       25   non-deterministic: s1 25, s0 5
s1    A   s0        5

check on 10 held-out examples </script>"""


def make_kuzu_nets(folder, names=('full', 'conv')):
    """KMNIST nets of random weights (batch-norm statistics too) as kuzu_main.py --save
    saves them."""
    import torch

    from nnlab.kmnist.nets import make_net
    generator = torch.Generator().manual_seed(0)
    for name in names:
        net = make_net(name)
        with torch.no_grad():
            for key, value in net.state_dict().items():
                if key.endswith('running_var'):
                    value.uniform_(0.5, 2.0, generator=generator)
                elif key.startswith('bn') and key.endswith(('running_mean', 'bias')):
                    value.normal_(0.0, 0.3, generator=generator)
                elif key.startswith('bn') and key.endswith('weight'):
                    value.uniform_(0.5, 1.5, generator=generator)
        torch.save(net.state_dict(), folder / f'kuzu_{name}.pth')


def machine_record(path):
    """MACHINE as seq_plot.py --fsm records it for the checkpoint at `path`: two clusters
    whose centres are the network's hidden states after AA (s0) and after AABBB (s1)."""
    import torch

    from nnlab.recurrent import fsm
    model, _ = checkpoint.load(path)
    symbols = torch.eye(2)[[0, 0, 1, 1, 1]][None]            # A A B B B, one-hot
    with torch.no_grad():
        hidden = model(symbols, context=True)[0][0].double().numpy()
    return MachineRecord(text=MACHINE, states=2, minimal_states=2,
                         state_of_cluster=['s0', 's1'], accepted=1, examples=1,
                         symbols='AB', start='s0',
                         moves={'s0': {'A': 's0', 'B': 's1'}, 's1': {'A': 's0', 'B': 's1'}},
                         centres=[hidden[1].tolist(), hidden[4].tolist()], scale=[1.0, 1.0],
                         lines=fsm.state_lines(MACHINE, ['s0', 's1']))


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """A folder with net/ (SRN, LSTM, GRU checkpoints, a trained NetLin, NetFull and
    NetConv of random weights), plot/ (a Part 2 run record) and the page explore.py made
    from them."""
    from conftest import kmnist_root, run_script
    folder = tmp_path_factory.mktemp('explore')
    make_checkpoints(folder / 'net')
    make_kuzu_nets(folder / 'net')
    (folder / 'plot').mkdir()
    schema.save(folder / 'plot' / 'anb2n_srn2_analysis.json', Analysis(
        network=Network(lang='anb2n', model='srn', hid=2), checkpoint='net/anb2n_srn2_20.pth',
        command='python3 seq_plot.py --lang anb2n --epoch 20 --fsm',
        fsm=machine_record(folder / 'net' / 'anb2n_srn2_20.pth')))
    try:
        data = kmnist_root()
    except pytest.skip.Exception:       # Parts 2 and 3 are tested all the same
        data = None
    runs = [('check_main.py', '--act', 'sig', '--hid', '4', '--epoch', '300', '--seed', '1',
             '--plot_dir', 'plot')]
    if data:
        runs.append(('kuzu_main.py', '--net', 'lin', '--epochs', '1', '--train_count', '3000',
                     '--data', data, '--plot_dir', 'plot', '--save', 'net/kuzu_lin.pth'))
    for argv in runs:
        done = run_script(*argv, cwd=folder)
        assert done.returncode == 0, done.stderr
    built = run_script('explore.py', *(['--data', data] if data else []), cwd=folder)
    assert built.returncode == 0, built.stderr
    nets = '3 net(s)' if data else '2 net(s)'
    assert 'wrote explore/index.html' in built.stdout and '6 checkpoint(s) of 3 run(s)' \
        in built.stdout and nets in built.stdout, built.stdout
    return folder


@pytest.fixture(scope='module')
def tab(site, browser):
    watched = Watched(browser, 1100, 900)
    watched.open(site / 'explore' / 'index.html')
    yield watched
    watched.close()


def call(tab, expression, *args):
    return tab.page.evaluate(expression, list(args))


@pytest.mark.slow
def test_page_is_one_small_file_without_network(site):
    html = (site / 'explore' / 'index.html').read_text()
    assert len(html.encode()) < 5_000_000
    assert html.count('</script>') == 2         # the data's and the scripts' own ends
    assert 'http://' not in html.replace('http://www.w3.org/2000/svg', '')
    assert 'https://' not in html and '<link' not in html and ' src=' not in html


def test_nothing_closes_the_script_early(tmp_path):
    data = {'part2': {'note': '</script><script>alert(1)</script> <!-- /*SCRIPTS*/'}}
    text = page.render(data)
    payload = text.split('id="explore-data">')[1].split('</script>')[0]
    assert json.loads(payload) == data


@pytest.mark.slow
def test_no_console_errors_and_no_requests(tab):
    assert tab.page.title() == 'Neural networks: explore'
    assert tab.errors == [] and tab.requests == []


@pytest.mark.slow
@pytest.mark.parametrize('weights, act, scale, percent', [
    (HAND, 'step', 1, 100.0), (HAND, 'sig', 10, 100.0), (TWO_UNITS, 'step', 1, 700 / 9)])
def test_hand_designs(tab, weights, act, scale, percent):
    shown = call(tab, '([w, a, s]) => { explore.part2.setWeights(w, a, s); '
                      'return [explore.part2.accuracy(), explore.part2.weights()]; }',
                 weights, act, scale)
    assert shown[0] == pytest.approx(percent)
    assert shown[1] == weights
    assert tab.page.inner_text('#p2-accuracy') == f'{percent:.2f}%'


def drag_line(tab, unit, dx, dy, what='line'):
    box = tab.page.locator(f'#p2-{what}-{unit}').bounding_box()
    x, y = box['x'] + box['width'] / 2, box['y'] + box['height'] / 2
    mouse = tab.page.mouse
    mouse.move(x, y)
    mouse.down()
    mouse.move(x + dx, y + dy, steps=4)
    mouse.up()


@pytest.mark.slow
def test_dragging_a_line_changes_the_accuracy(tab):
    call(tab, '([w]) => explore.part2.setWeights(w, "step", 1)', HAND)
    drag_line(tab, 0, 0, -70)                   # h0 moves up past the point (0, 1)
    moved = call(tab, '() => [explore.part2.accuracy(), explore.part2.weights()]')
    assert moved[0] < 100.0
    assert moved[1]['hid_bias'][0] < -0.5 and moved[1]['in_hid_weight'][0] == [1, 1]
    assert tab.page.inner_text('#p2-accuracy') == f'{moved[0]:.2f}%'
    drag_line(tab, 1, 0, 0, 'handle')           # grabbing the handle alone turns nothing
    drag_line(tab, 1, 60, 60, 'handle')         # turning h1 changes its weights, not |w|
    turned = call(tab, '() => explore.part2.weights().in_hid_weight[1]')
    assert turned != [1, 1] and np.hypot(*turned) == pytest.approx(np.sqrt(2))
    assert tab.errors == []


@pytest.mark.slow
def test_typing_a_weight_updates_everything(tab):
    call(tab, '([w]) => explore.part2.setWeights(w, "step", 1)', HAND)
    tab.page.fill('#p2-w-3-3', '1')             # h3 -> output: -1 becomes 1
    assert call(tab, '() => explore.part2.weights().hid_out_weight[0][3]') == 1
    assert call(tab, '() => explore.part2.accuracy()') == pytest.approx(800 / 9)
    assert tab.page.locator('#p2-points tr.wrong').count() == 1


@pytest.mark.slow
@pytest.mark.parametrize('act, scale', [('step', 1), ('sig', 10)])
def test_saved_weights_give_check_main_the_same_accuracy(tab, tmp_path, act, scale):
    from conftest import run_script
    call(tab, '([w, a, s]) => explore.part2.setWeights(w, a, s)', HAND, act, scale)
    drag_line(tab, 2, 30, -50)
    accuracy = call(tab, '() => explore.part2.accuracy()')
    assert accuracy < 100.0
    with tab.page.expect_download() as download:
        tab.page.click('#p2-save')
    path = tmp_path / 'weights.json'
    download.value.save_as(path)
    assert json.loads(path.read_text()) == call(tab, '() => explore.part2.weights()')
    done = run_script('check_main.py', '--act', act, '--scale', str(scale), '--weights', path,
                      '--epoch', '1', '--plot_dir', tmp_path / 'plot')
    assert done.returncode == 0, done.stderr
    assert f'Initial Accuracy:  {round(accuracy, 2)}\n' in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize('text, words', BAD_WEIGHTS)
def test_a_weights_file_check_main_refuses_is_refused(tab, tmp_path, text, words):
    from conftest import run_script
    call(tab, '([w]) => explore.part2.setWeights(w, "step", 1)', HAND)
    path = tmp_path / 'bad.json'
    path.write_text(text)
    tab.page.set_input_files('#p2-load', str(path))
    tab.page.wait_for_function('() => explore.part2.message() !== ""')
    message = call(tab, '() => explore.part2.message()')
    assert message.startswith('weights file bad.json') and words in message
    assert '\n' not in message
    assert call(tab, '() => explore.part2.weights()') == HAND
    # check_main.py's own reader refuses it with the same reason (once through the script)
    if 'misses' in words:
        assert_one_line_error(run_script('check_main.py', '--act', 'step', '--weights', path,
                                         '--plot_dir', tmp_path), words)
    else:
        with pytest.raises(UserError, match=re.escape(words)):
            load_weights_file(str(path))


@pytest.mark.slow
def test_loading_a_good_file_shows_it(tab, tmp_path):
    path = tmp_path / 'mine.json'
    path.write_text(json.dumps(TWO_UNITS))
    tab.page.set_input_files('#p2-load', str(path))
    tab.page.wait_for_function('() => explore.part2.message().startsWith("loaded")')
    assert call(tab, '() => explore.part2.weights()') == TWO_UNITS
    assert tab.page.locator('#p2-weights tr').count() == 4     # head, 2 units, output bias


@pytest.mark.slow
def test_train_equals_the_compiled_kernel(tab):
    from nnlab.perceptron import kernels
    from nnlab.perceptron.data import load_points
    from nnlab.perceptron.train import flatten
    rng = np.random.default_rng(3)
    start = {'in_hid_weight': rng.normal(0, 0.5, (5, 2)).tolist(),
             'hid_bias': rng.normal(0, 0.5, 5).tolist(),
             'hid_out_weight': rng.normal(0, 0.5, (1, 5)).tolist(),
             'out_bias': rng.normal(0, 0.5, 1).tolist()}
    trained = call(tab, '([w]) => { explore.part2.setWeights(w, "sig", 1); '
                        'return explore.part2.train(1000); }', start)
    inputs, targets = load_points()
    training = kernels.KernelTraining(flatten(start)[None], inputs.numpy(), targets.numpy(), 0.001,
                                epochs=1000)
    training.advance(1000)
    assert trained['epochs'] == 1000
    assert np.abs(np.array(trained['weights']) - training.weights[0]).max() < 1e-6
    shown = flatten({k: np.array(v) for k, v in
                     call(tab, '() => explore.part2.weights()').items()})
    assert np.abs(shown - training.weights[0]).max() < 1e-6
    logged = np.array([loss for _, loss in trained['log']])
    assert np.abs(logged - training.log_loss[0]).max() < 1e-6


@pytest.mark.slow
def test_the_train_button_trains_live(tab):
    call(tab, '([w]) => explore.part2.setWeights(w, "step", 10)', TWO_UNITS)
    tab.page.fill('#p2-epochs', '3000')
    tab.page.click('#p2-train')
    tab.page.wait_for_function('() => document.getElementById("p2-train").textContent '
                               '=== "Train"', timeout=20_000)
    assert tab.page.inner_text('#p2-train-status').startswith('epoch 3000')
    assert call(tab, '() => explore.part2.weights()') != TWO_UNITS
    assert tab.page.locator('#p2-act').input_value() == 'sig'
    tab.page.click('#p2-rewind')                # back to where training started
    assert call(tab, '() => explore.part2.weights()') == TWO_UNITS
    assert tab.page.locator('#p2-act').input_value() == 'step'


def torch_run(path, text):
    import torch
    model, meta = checkpoint.load(path)
    model = model.double()
    symbols = 'ABC' if meta.network.lang != 'reber' else 'BTSXPVE'
    seq = torch.tensor([symbols.index(ch) for ch in text])
    x = torch.nn.functional.one_hot(seq, meta.num_input).double()[None]
    with torch.no_grad():
        hidden, output, context = model(x, context=True)
    found = {'hidden': hidden[0].numpy(), 'probs': torch.softmax(output[0], -1).numpy()}
    if meta.network.model == 'lstm':
        found['cells'] = context['cell'][0].numpy()
    return found


def long_text(lang, length=600):
    if lang == 'reber':
        rng = np.random.default_rng(1)
        return ''.join(rng.choice(list('BTSXPVE'), length))
    counting = 'AABBBBCCCCCC' if lang == 'anb2nc3n' else 'AAABBBBBB'
    return (counting * length)[:length]


@pytest.mark.slow
def test_networks_lists_every_checkpoint(tab):
    names = call(tab, '() => explore.part3.networks()')
    assert sorted(names) == sorted(f'{lang}_{kind}{hid}_{at}' for lang, kind, hid, _ in NETWORKS
                                   for at in (10, 20))


@pytest.mark.slow
@pytest.mark.parametrize('lang, kind, hid, symbols', NETWORKS)
def test_forward_equals_the_float64_models(tab, site, lang, kind, hid, symbols):
    text = long_text(lang)
    for at in (10, 20):
        name = f'{lang}_{kind}{hid}_{at}'
        shown = call(tab, '([n, t]) => explore.part3.run(n, t)', name, text)
        expected = torch_run(site / 'net' / f'{name}.pth', text)
        assert set(shown) == set(expected)
        for key, value in expected.items():
            assert np.array(shown[key]).shape == value.shape == (600, value.shape[1])
            assert np.abs(np.array(shown[key]) - value).max() < 1e-5, key


@pytest.mark.slow
def test_run_refuses_unknown_symbols(tab):
    with pytest.raises(Exception, match="'X' is not a symbol of anb2n"):
        call(tab, '() => explore.part3.run("anb2n_srn2_10", "AAX")')


@pytest.mark.slow
def test_stepping_through_a_string(tab):
    page = tab.page
    page.select_option('#p3-run', 'anb2n_srn2')
    page.fill('#p3-text', 'aaabbbbbb')
    assert page.inner_text('#p3-where') == '1 of 9 symbols read'
    page.click('#p3-next')
    page.click('#p3-next')
    assert page.inner_text('#p3-where') == '3 of 9 symbols read'
    state = page.inner_text('#p3-state')
    assert 'true\t0.8, 0.2' in state or 'true 0.8, 0.2' in state.replace('\t', ' ')
    page.click('#p3-last')
    assert page.inner_text('#p3-where') == '9 of 9 symbols read'
    # the slider goes through the run's checkpoints
    page.locator('#p3-slider').fill('0')
    assert 'anb2n_srn2_10' in page.inner_text('#p3-checkpoint')
    page.fill('#p3-text', 'AAXB')
    assert "'X' is not a symbol" in page.inner_text('#p3-message')
    # seq_plot.py --fsm's machine of the run, as it printed it, its state lit when the
    # checkpoint is the one it was extracted from
    assert page.inner_text('#p3-machine') == MACHINE + '\n'
    assert call(tab, '() => explore.part3.machineState()') is None
    assert 'move the slider' in page.inner_text('#p3-machine-from')
    page.locator('#p3-slider').fill('1')
    page.fill('#p3-text', 'AABBBB')
    page.click('#p3-next')
    assert call(tab, '() => explore.part3.machineState()') == 's0'
    for _ in range(3):
        page.click('#p3-next')
    assert call(tab, '() => explore.part3.machineState()') == 's1'
    assert page.locator('#p3-machine span.lit').all_inner_texts() == [
        line + '\n' for line in MACHINE.splitlines() if line.startswith('s1 ')]
    assert 'in state s1' in page.inner_text('#p3-machine-from')
    page.fill('#p3-n', '7')                     # beyond the training lengths (4)
    page.click('#p3-generate')
    assert page.input_value('#p3-text') == 'A' * 7 + 'B' * 14
    def true_row():
        rows = dict(line.split('\t') for line in page.inner_text('#p3-state').splitlines())
        return rows['true']
    page.click('#p3-first')
    for _ in range(5):
        page.click('#p3-next')
    assert true_row() == '-'                    # the 5th A: n > 4 has no true distribution
    for _ in range(3):
        page.click('#p3-next')
    assert true_row() == '0, 1'                 # after the first B the rest is determined
    page.click('#p3-last')
    assert true_row() == '1, 0'                 # the next string's A
    assert tab.errors == []


def median_ms(tab, script):
    times = call(tab, f'''() => {{
        const times = [];
        for (let k = 0; k < 20; k++) {{
            const start = performance.now();
            {script}
            times.push(performance.now() - start);
        }}
        return times; }}''')
    return statistics.median(times)


@pytest.mark.slow
def test_interactions_are_fast(tab):
    call(tab, '([w]) => explore.part2.setWeights(w, "sig", 10)', HAND)
    typing = median_ms(tab, '''const input = document.getElementById('p2-w-0-2');
        input.value = String(-0.5 - k / 100); input.dispatchEvent(new Event('input'));''')
    tab.page.fill('#p3-text', long_text('anb2n', 60))
    tab.page.click('#p3-first')
    stepping = median_ms(tab, "document.getElementById('p3-next').click();")
    print(f'median of 20: typing a Part 2 weight {typing:.2f} ms, a Part 3 step '
          f'{stepping:.2f} ms')
    assert typing < 16 and stepping < 16


def test_damaged_files_leave_one_line_in_their_panel(tmp_path, browser):
    (tmp_path / 'plot').mkdir()
    (tmp_path / 'net').mkdir()
    (tmp_path / 'plot' / 'check_sig_hid4_run.json').write_text('{"format": "nnlab-check')
    (tmp_path / 'net' / 'anb2n_srn2_10.pth').write_bytes(b'not a checkpoint')
    (tmp_path / 'net' / 'kuzu_conv.pth').write_bytes(b'not a net')
    data = gather.gather(str(tmp_path / 'plot'), str(tmp_path / 'net'), str(tmp_path / 'out'))
    path = page.write(str(tmp_path / 'out' / 'index.html'), data)
    watched = Watched(browser)
    try:
        watched.open(path)
        for panel, words in (('p1-notes', 'kuzu_conv.pth'),
                             ('p2-notes', 'check_sig_hid4_run.json'),
                             ('p3-notes', 'anb2n_srn2_10.pth')):
            lines = watched.page.locator(f'#{panel} div').all_inner_texts()
            assert len(lines) == 1 and words in lines[0] and 'run ' in lines[0], lines
        assert watched.page.evaluate('explore.part2.accuracy()') == 100.0
        assert watched.page.evaluate('explore.part3.networks()') == []
        assert watched.page.evaluate('explore.part1.nets()') == []
        assert watched.errors == [] and watched.requests == []
    finally:
        watched.close()


@pytest.mark.parametrize('args, words', [
    (['--points', 'missing.csv'], 'missing.csv'),
    (['--out', ''], '--out: the folder name is empty'),
    (['--out', 'afile'], 'a file of that name is in the way'),
])
def test_explore_refuses_bad_input_with_one_line(tmp_path, args, words):
    from conftest import run_script
    (tmp_path / 'afile').write_text('x')
    assert_one_line_error(run_script('explore.py', *args, cwd=tmp_path), words)


# --- Part 1 ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_part1_lists_the_saved_nets(tab):
    from conftest import kmnist_root
    kmnist_root()                               # NetLin is trained on KMNIST
    assert call(tab, '() => explore.part1.nets()') == ['lin', 'full', 'conv']


def kmnist_test_images(count=None):
    from conftest import kmnist_root

    from nnlab.kmnist.data import load_split
    images, labels = load_split(kmnist_root(), 'test')
    pixels = np.rint((images[:, 0].numpy() * 0.5 + 0.5) * 255).astype(np.uint8)
    return pixels[:count], labels.numpy()[:count]


def torch_probs(site, name, pixels):
    import torch

    from nnlab.kmnist.nets import make_net
    state = torch.load(site / 'net' / f'kuzu_{name}.pth', weights_only=True)
    net = make_net(name)
    net.load_state_dict(state)
    net = net.double().eval()
    x = (torch.from_numpy(pixels).double()[:, None] / 255 - 0.5) / 0.5
    with torch.no_grad():
        return torch.exp(net(x)).numpy()


CLASSIFY_ALL = '''([net, text]) => {
    const bytes = Uint8Array.from(atob(text), ch => ch.charCodeAt(0));
    const best = [], first = [];
    for (let k = 0; k < bytes.length / 784; k++) {
        const pixels = Array.from(bytes.subarray(784 * k, 784 * (k + 1)), v => v / 255);
        const probs = explore.part1.classify(net, pixels);
        best.push(probs.indexOf(Math.max(...probs)));
        if (k < 50) first.push(probs);
    }
    return [best, first]; }'''


@pytest.mark.slow
# Every test image for the two cheap nets; NetConv (2.6 ms an image in the page) on the
# first 2,000, a fifth of the cost of all of them.
@pytest.mark.parametrize('name, count', [('lin', 10000), ('full', 10000), ('conv', 2000)])
def test_classify_equals_torch(tab, site, name, count):
    import base64
    pixels, _ = kmnist_test_images(count)
    best, first = call(tab, CLASSIFY_ALL, name, base64.b64encode(pixels.tobytes()).decode())
    expected = torch_probs(site, name, pixels)
    assert np.abs(np.array(first) - expected[:50]).max() < 1e-5
    top_two = np.sort(expected, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 1e-6
    print(f'{name}: near-ties (top two within 1e-6, not compared): '
          f'{np.flatnonzero(~clear).tolist()}')
    assert clear.sum() > 0.99 * count
    assert (np.array(best)[clear] == expected.argmax(axis=1)[clear]).all()


def drawn(image, size, left, top):
    """A test image as if drawn on the 280x280 canvas: scaled to size x size pixels (each
    pixel a block) at (left, top)."""
    canvas = np.zeros((280, 280))
    block = np.kron(image / 255, np.ones((size // 28, size // 28)))
    canvas[top:top + block.shape[0], left:left + block.shape[1]] = block
    return canvas


PREPROCESS = '''([text]) => {
    const bytes = Uint8Array.from(atob(text), ch => ch.charCodeAt(0)), made = [];
    for (let k = 0; k < bytes.length / 78400; k++) {
        const ink = Array.from(bytes.subarray(78400 * k, 78400 * (k + 1)), v => v / 255);
        made.push(explore.part1.preprocess(ink, 280, 280));
    }
    return made; }'''


def preprocess(tab, canvases):
    import base64
    raw = np.rint(np.array(canvases) * 255).astype(np.uint8).tobytes()
    return np.array(call(tab, PREPROCESS, base64.b64encode(raw).decode())).reshape(-1, 28, 28)


@pytest.mark.slow
def test_a_drawing_is_cropped_scaled_and_centred(tab, site):
    pixels, _ = kmnist_test_images(100)
    rng = np.random.default_rng(0)
    canvases = []
    for image in pixels:
        size = 28 * int(rng.integers(3, 10))
        left, top = rng.integers(0, 281 - size, 2)
        canvases.append(drawn(image, size, int(left), int(top)))
    made = preprocess(tab, canvases)
    for image in made:
        rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 == 20
        ys, xs = np.mgrid[0:28, 0:28] + 0.5
        assert abs((image * ys).sum() / image.sum() - 14) <= 0.5
        assert abs((image * xs).sum() / image.sum() - 14) <= 0.5
    # the same image drawn anywhere, at any size, comes out alike
    again, once = preprocess(tab, [drawn(pixels[0], 252, 10, 20),
                                   drawn(pixels[0], 84, 150, 100)])
    assert np.abs(again - once).max() < 0.05
    # KMNIST's characters fill more of the frame than 20x20, so a net trained on them
    # reads a drawing less well than the test image itself (the figure is printed)
    originals = torch_probs(site, 'lin', pixels).argmax(axis=1)
    redrawn = torch_probs(site, 'lin', np.rint(made * 255).astype(np.uint8)).argmax(axis=1)
    print(f'NetLin: {(originals == redrawn).mean():.0%} of 100 drawn test images read as '
          f'the originals')
    assert (originals == redrawn).mean() > 0.2          # chance: 0.1


@pytest.mark.slow
def test_drawing_with_the_mouse_classifies(tab):
    from conftest import kmnist_root
    kmnist_root()                               # the sample images come from KMNIST
    page = tab.page
    page.click('#p1-clear')
    box = page.locator('#p1-draw').bounding_box()
    mouse = page.mouse
    mouse.move(box['x'] + 80, box['y'] + 60)
    mouse.down()
    for x, y in ((200, 70), (140, 120), (140, 230), (90, 200)):
        mouse.move(box['x'] + x, box['y'] + y, steps=5)
    mouse.up()
    shown = np.array(call(tab, '() => explore.part1.shown()')).reshape(28, 28)
    assert shown.max() > 0.5 and (shown > 0).sum() > 40
    rows = page.locator('#p1-probs tr').all_inner_texts()
    assert len(rows) == 10 and page.locator('#p1-probs tr.top').count() == 1
    page.click('#p1-sample-25')                 # a test image of class 1 (ki)
    assert np.allclose(call(tab, '() => explore.part1.shown()'),
                       call(tab, '() => explore.part1.samples()[25].pixels'), atol=1e-12)
    assert tab.errors == []


@pytest.mark.slow
def test_classification_is_fast(tab):
    from conftest import kmnist_root
    kmnist_root()
    pixels = call(tab, '() => explore.part1.samples()[3].pixels')
    times = call(tab, '''([pixels]) => {
        const times = [];
        for (let k = 0; k < 20; k++) {
            const start = performance.now();
            explore.part1.classify('conv', pixels);
            times.push(performance.now() - start);
        }
        return times; }''', pixels)
    print(f'median of 20: NetConv classification {statistics.median(times):.2f} ms')
    assert statistics.median(times) < 50


def screenshots(page, folder):
    """A picture of each panel (docs/explore.md shows them): explore_part{1,2,3}.png."""
    made = []
    for part in (1, 2, 3):
        path = os.path.join(folder, f'explore_part{part}.png')
        page.locator(f'#part{part}').screenshot(path=path)
        made.append(path)
    return made


@pytest.mark.slow
def test_screenshots_of_each_panel(tab, tmp_path):
    # NNLAB_SCREENSHOTS=docs/images keeps them (the docs' pictures were made so, from the
    # page of report.py --run --quick)
    folder = os.environ.get('NNLAB_SCREENSHOTS') or tmp_path
    for path in screenshots(tab.page, folder):
        data = open(path, 'rb').read()
        assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 10_000


def test_the_machine_is_read_from_its_record_and_an_older_record_says_run_again(tmp_path):
    from nnlab.page.sources import Sources
    from nnlab.recurrent import fsm
    lines = fsm.state_lines(MACHINE, ['s0', 's1'])
    assert [MACHINE.splitlines()[k].split()[:3] for k in lines['s1']] == [
        ['s1', '30', 'B'], ['s1', 'B', 's1'], ['s1', 'A', 's0']]
    plot = tmp_path / 'plot'
    plot.mkdir()
    data = schema.to_dict(Analysis(network=Network(lang='anb2n', model='srn', hid=2),
                                   command='python3 seq_plot.py --fsm',
                                   fsm=MachineRecord(text=MACHINE, states=2, minimal_states=2,
                                                     state_of_cluster=['s0', 's1'],
                                                     accepted=1, examples=1)))
    data['format'] = 'nnlab-analysis-2'             # written before the machine as data
    (plot / 'x_analysis.json').write_text(json.dumps(data))
    sources = Sources(str(plot), str(tmp_path), str(tmp_path / 'out'), say=lambda line: None)
    notes = []
    found = gather._machine(sources, 'x', notes)
    assert found['text'] == MACHINE and found['table'] is None
    assert len(notes) == 1 and 'run python3 seq_plot.py --fsm again' in notes[0]


@pytest.mark.slow
def test_the_last_trained_network_is_offered(tab, site):
    record = json.loads((site / 'plot' / 'check_sig_hid4_run.json').read_text())
    tab.page.click('#p2-trained')
    assert call(tab, '() => explore.part2.weights()') == record['results']['final_weights']
    assert tab.page.locator('#p2-act').input_value() == 'sig'
    assert call(tab, '() => explore.part2.accuracy()') == pytest.approx(
        record['results']['final_accuracy'])
    assert 'check_sig_hid4_run.json' in call(tab, '() => explore.part2.message()')
