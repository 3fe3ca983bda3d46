"""Part 2 as a user runs it: check_main.py's printed report, pictures and errors."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import ROOT, without_notes
from PIL import Image

import check_main
from check import MLP, hand_designed_weights
from nnlab.cli import run_cli
from nnlab.perceptron.data import load_points

NUMBER = r'-?\d+\.?\d*(?:e[+-]?\d+)?'


def between(out, start, end):
    return out.split(start, 1)[1].split(end, 1)[0]


def printed_weights(out, title):
    """The four tensors printed after `title`, as the weight dict they came from."""
    block = between(out, title + '\n', 'Accuracy:')
    rows = [line for line in block.splitlines() if line.strip()]
    tensors, current = [], ''
    for line in rows:  # a tensor may span several lines; each starts with 'tensor('
        if line.startswith('tensor(') and current:
            tensors.append(current)
            current = ''
        current += line
    tensors.append(current)
    assert len(tensors) == 4, block
    values = [[float(v) for v in re.findall(NUMBER, t)] for t in tensors]
    hid = len(values[1])
    return {'in_hid_weight': torch.tensor(values[0]).reshape(hid, 2),
            'hid_bias': torch.tensor(values[1]),
            'hid_out_weight': torch.tensor(values[2]).reshape(1, hid),
            'out_bias': torch.tensor(values[3])}


def accuracy_line(out, which):
    match = re.search(rf'^{which} Accuracy:  ({NUMBER})$', out, re.M)
    assert match, f"no '{which} Accuracy:  <acc>' line in:\n{out}"
    return float(match.group(1))


def table_rows(out):
    block = between(out, 'Activations per point', '\n\n').splitlines()[2:]
    rows = []
    for line in block:
        left, hidden, right = line.split('|')
        x, y = map(float, left.split())
        parts = right.split()
        rows.append({'x': x, 'y': y, 'hidden': [float(h) for h in hidden.split()],
                     'output': float(parts[0]), 'target': int(parts[1]),
                     'wrong': line.endswith('<- wrong')})
    return rows


def divider_lines(out):
    return [line for line in between(out, 'Dividing lines', '\n\n').splitlines()[1:]]


def pictures(folder):
    """The pictures in `folder` (the run record beside them is not one)."""
    names = sorted(p.name for p in folder.iterdir() if not p.name.endswith('_run.json'))
    for name in names:
        with Image.open(folder / name) as image:
            assert image.format == 'JPEG' and image.size[0] > 200
    return names


def run_main(capsys, *args):
    """check_main as the command line runs it, in this process (no interpreter start-up):
    its printed output."""
    capsys.readouterr()
    assert check_main.main([str(a) for a in args]) == 0
    out, err = capsys.readouterr()
    assert without_notes(err) == []
    return out


def assert_report_matches_network(out, act):
    """The table and dividing lines printed agree with the printed final weights."""
    weights = printed_weights(out, 'Final Weights:')
    net = MLP(weights['hid_bias'].numel(), act)
    net.load_weights(weights)
    inputs, targets = load_points()
    with torch.no_grad():
        output = net(inputs)
    rows = table_rows(out)
    assert len(rows) == len(inputs)
    for row, point, hid, out_value, target in zip(rows, inputs, net.hid, output, targets):
        assert [row['x'], row['y']] == point.tolist()
        assert row['hidden'] == pytest.approx(hid.tolist(), abs=2e-3)
        assert row['output'] == pytest.approx(out_value.item(), abs=2e-3)
        assert row['target'] == int(target)
        assert row['wrong'] == ((out_value.item() >= 0.5) != (target.item() == 1))
    for line, (wx, wy), bias in zip(divider_lines(out), weights['in_hid_weight'].tolist(),
                                    weights['hid_bias'].tolist()):
        found = re.match(rf'h\d+: ({NUMBER})\*x ([+-] {NUMBER})\*y ([+-] {NUMBER}) = 0', line)
        a, b, c = (float(group.replace(' ', '')) for group in found.groups())
        assert (a, b, c) == pytest.approx((wx, wy, bias), abs=0.006)
        solved = re.search(rf'\(y = (-?)(?:({NUMBER})\*)?x ([+-] {NUMBER})\)', line)
        if solved and abs(wy) > 0.5:  # the solved form describes the same line
            sign, slope, intercept = solved.groups()
            slope = (float(slope) if slope else 1.0) * (-1.0 if sign else 1.0)
            assert slope == pytest.approx(-wx / wy, abs=0.006)
            assert float(intercept.replace(' ', '')) == pytest.approx(-bias / wy, abs=0.006)


@pytest.mark.slow
def test_hand_designed_step_network_classifies_all_points(run, tmp_path):
    result = run('check_main.py', '--act', 'step', '--hid', '4', '--set_weights',
                 '--plot_dir', tmp_path)
    assert result.returncode == 0 and result.stderr == '', result.stderr
    out = result.stdout
    assert out.startswith('Initial Weights:\n')
    assert printed_weights(out, 'Initial Weights:').keys() == hand_designed_weights().keys()
    assert accuracy_line(out, 'Initial') == 100.0
    assert accuracy_line(out, 'Final') == 100.0
    assert 'ep:' not in out  # only the sigmoid network trains
    assert divider_lines(out)[0] == 'h0: 1.00*x + 1.00*y - 0.50 = 0  (y = -x + 0.50)'
    assert_report_matches_network(out, 'step')
    assert pictures(tmp_path) == ['check.jpg', 'hid_4_0.jpg', 'hid_4_1.jpg', 'hid_4_2.jpg',
                                  'hid_4_3.jpg', 'out_4.jpg']


@pytest.mark.slow
def test_scaled_sigmoid_network_mimics_it_then_trains(capsys, tmp_path):
    out = run_main(capsys, '--act', 'sig', '--hid', '4', '--set_weights', '--plot_dir', tmp_path)
    start = printed_weights(out, 'Initial Weights:')
    for name, value in hand_designed_weights().items():
        assert torch.equal(start[name], value * 10)
    assert accuracy_line(out, 'Initial') == 100.0
    epochs = re.findall(r'^ep:([ \d]{5}) loss: \d\.\d{4} acc: 100\.00$', out, re.M)
    # Already at 100%: the stopping rule ends training after 2000 epochs.
    assert [int(e) for e in epochs] == list(range(100, 2001, 100))
    assert accuracy_line(out, 'Final') == 100.0
    assert_report_matches_network(out, 'sig')


def test_scale_is_what_makes_the_sigmoid_network_work():
    inputs, targets = load_points()
    for scale, expected in ((10.0, True), (0.5, False)):
        net = MLP(4, 'sig')
        net.set_weights(scale=scale)
        with torch.no_grad():
            correct = ((net(inputs) >= 0.5).float() == targets).all().item()
        assert correct == expected


def test_weights_file_sets_the_design_and_hidden_size(capsys, tmp_path):
    # Two of the four diagonal lines: right for x+y = 0, 1, 2, 4, wrong for x+y = 3.
    design = {'in_hid_weight': [[1, 1], [1, 1]], 'hid_bias': [-0.5, -1.5],
              'hid_out_weight': [[1, -1]], 'out_bias': [-0.5]}
    path = tmp_path / 'mine.json'
    path.write_text(json.dumps(design))
    plots = tmp_path / 'plots'
    out = run_main(capsys, '--act', 'step', '--weights', path, '--plot_dir', plots)
    assert accuracy_line(out, 'Initial') == pytest.approx(700 / 9, abs=0.01)
    wrong = [(r['x'], r['y']) for r in table_rows(out) if r['wrong']]
    assert wrong == [(1.0, 2.0), (2.0, 1.0)]
    assert pictures(plots) == ['check.jpg', 'hid_2_0.jpg', 'hid_2_1.jpg', 'out_2.jpg']


def cli_error(capsys, *argv):
    """Run check_main in-process as the CLI does; return its one stderr line."""
    with pytest.raises(SystemExit) as exit_info:
        run_cli(check_main.main, [str(a) for a in argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('error: ') and 'Traceback' not in err, err
    return err


@pytest.mark.parametrize('content, problem', [
    ('{"in_hid_weight": [[1, 1]]', 'not valid JSON'),
    ('[1, 2]', 'JSON object'),
    ('{"in_hid_weight": [[1, 1]], "hid_bias": [0], "hid_out_weight": [[1]]}', 'out_bias'),
    ('{"in_hid_weight": [[1, 1, 1]], "hid_bias": [0], "hid_out_weight": [[1]], '
     '"out_bias": [0]}', 'shape'),
    ('{"in_hid_weight": [[1, 1], [1, 1]], "hid_bias": [0], "hid_out_weight": [[1, 1]], '
     '"out_bias": [0]}', 'hid_bias has shape'),
    ('{"in_hid_weight": [[1, "a"]], "hid_bias": [0], "hid_out_weight": [[1]], '
     '"out_bias": [0]}', 'not a number'),
    ('{"in_hid_weight": [[1, 1], [1]], "hid_bias": [0, 0], "hid_out_weight": [[1, 1]], '
     '"out_bias": [0]}', 'different lengths'),
    ('{"in_hid_weight": [[1, NaN]], "hid_bias": [0], "hid_out_weight": [[1]], '
     '"out_bias": [true]}', 'finite'),
])
def test_malformed_weights_file_fails_in_one_line(capsys, tmp_path, content, problem):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    err = cli_error(capsys, '--act', 'step', '--weights', path, '--plot_dir', tmp_path / 'p')
    assert problem in err
    assert not (tmp_path / 'p' / 'check.jpg').exists()


def test_bad_flag_value_is_one_line_from_the_command_line(run, tmp_path):
    result = run('check_main.py', '--act', 'relu', '--plot_dir', tmp_path)
    assert result.returncode == 2 and result.stdout == ''
    assert result.stderr.count('\n') == 1 and "invalid choice: 'relu'" in result.stderr


def test_bad_flags_fail_in_one_line(capsys, tmp_path):
    assert 'at least 1' in cli_error(capsys, '--hid', '0')
    assert 'not found' in cli_error(capsys, '--csv', tmp_path / 'nowhere.csv')
    assert '--hid 4' in cli_error(capsys, '--act', 'step', '--hid', '5', '--set_weights')
    assert '--restarts' in cli_error(capsys, '--act', 'step', '--restarts', '3')
    assert '--restarts K' in cli_error(capsys, '--act', 'sig', '--first')
    assert '--scale' in cli_error(capsys, '--set_weights', '--scale', '0')


@pytest.mark.parametrize('csv_text, problem', [
    ('x,y,target\n0,0,0\n0,1\n', 'line 3: 2 values'),
    ('x,y\n0,0\n', 'header has 2 columns'),
    ('x,y,target\n0,0,0\n1,abc,1\n', "'abc' is not a finite number"),
    ('x,y,target\n0,0,0\n1,1,2\n', 'is not 0 or 1'),
    ('x,y,target\n', 'holds no points'),
])
def test_malformed_csv_fails_in_one_line(capsys, tmp_path, csv_text, problem):
    path = tmp_path / 'data.csv'
    path.write_text(csv_text)
    assert problem in cli_error(capsys, '--csv', path, '--plot_dir', tmp_path / 'p')


def test_any_csv_of_2d_points_works(capsys, tmp_path):
    path = tmp_path / 'xor.csv'
    path.write_text('0,0,0\n0,3,1\n3,0,1\n3,3,0\n')  # no header, other coordinates
    out = run_main(capsys, '--act', 'sig', '--hid', '3', '--epoch', '200', '--csv', path,
                 '--plot_dir', tmp_path / 'p')
    assert [(r['x'], r['y'], r['target']) for r in table_rows(out)] == \
        [(0, 0, 0), (0, 3, 1), (3, 0, 1), (3, 3, 0)]


@pytest.mark.slow
def test_restarts_reach_100_percent_and_restart_i_is_the_single_run(capsys, tmp_path):
    # With seed 37 the single run gets stuck below 100%; with seed 38 it does not.
    plots = tmp_path / 'restarts'
    out = run_main(capsys, '--act', 'sig', '--hid', '5', '--seed', 37, '--restarts', 2,
                   '--epoch', 7000, '--plot_dir', plots)
    assert accuracy_line(out, 'Final') == 100.0
    assert 'Restarts: 1 of 2 reached 100%' in out
    assert re.search(r'restart 0 \(seed 37\): +[1-9]\d\.\d% after epoch 7000', out)
    assert 'Kept restart 1 (the same network as a single run with --seed 38)' in out
    assert_report_matches_network(out, 'sig')
    assert pictures(plots) == ['check.jpg'] + [f'hid_5_{n}.jpg' for n in range(5)] + \
        ['loss_5.jpg', 'out_5.jpg']
    # The kept network is exactly the single run with its seed.
    single = run_main(capsys, '--act', 'sig', '--hid', '5', '--seed', 38, '--epoch', 7000,
                      '--plot_dir', tmp_path / 'single')
    assert accuracy_line(single, 'Final') == 100.0
    assert between(out, 'Final Weights:', 'Pictures:') == \
        between(single, 'Final Weights:', 'Pictures:')


@pytest.mark.slow
def test_first_stops_without_waiting_for_a_stuck_restart(capsys, tmp_path):
    # Seed 37 is stuck for 7000 epochs (test above); with --first, seed 38 ends the run.
    out = run_main(capsys, '--act', 'sig', '--hid', '5', '--seed', 37, '--restarts', 2,
                   '--first', '--epoch', 7000, '--plot_dir', tmp_path / 'first')
    done = re.search(r'Restarts: 1 of 2 reached 100% by epoch (\d+), when restart 1 '
                     r'finished first', out)
    assert done and int(done.group(1)) < 7000
    assert re.search(rf'restart 0 \(seed 37\): +[1-9]\d\.\d% after epoch {done.group(1)}', out)
    assert 'Kept restart 1 (the same network as a single run with --seed 38)' in out
    assert accuracy_line(out, 'Final') == 100.0
    single = run_main(capsys, '--act', 'sig', '--hid', '5', '--seed', 38, '--epoch', 7000,
                      '--plot_dir', tmp_path / 'single')
    assert between(out, 'Final Weights:', 'Pictures:') == \
        between(single, 'Final Weights:', 'Pictures:')


@pytest.mark.slow
def test_same_seed_same_output(capsys, tmp_path):
    args = ('--act', 'sig', '--hid', '2', '--seed', '7', '--restarts', '3', '--epoch', '600',
            '--plot_dir', tmp_path)
    first, second = run_main(capsys, *args), run_main(capsys, *args)
    assert first == second
    assert first != run_main(capsys, *args[:5], '8', *args[6:])


def test_no_unit_pictures_above_30_hidden_units(capsys, tmp_path):
    out = run_main(capsys, '--act', 'step', '--hid', '31', '--plot_dir', tmp_path)
    assert len(divider_lines(out)) == 31
    assert pictures(tmp_path) == ['check.jpg']


@pytest.mark.slow
def test_ctrl_c_stops_training_and_still_reports(tmp_path):
    # Seed 4 never reaches 100%, so only Ctrl-C ends this run early.
    proc = subprocess.Popen([sys.executable, str(ROOT / 'check_main.py'), '--act', 'sig',
                             '--hid', '5', '--seed', '4', '--plot_dir', str(tmp_path)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED='1',
                                                MPLBACKEND='Agg'))
    try:
        deadline = time.time() + 60
        while not proc.stdout.readline().startswith('ep:  100') and time.time() < deadline:
            pass
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert 'Training stopped by Ctrl-C at epoch' in rest and 'Traceback' not in err
    assert 'Final Accuracy:  ' in rest
    assert (tmp_path / 'out_5.jpg').exists() and (tmp_path / 'check.jpg').exists()
