"""What trains check.py's MLP is what the file says (nnlab/engine.py): the compiled kernel
for the shipped MLP or one that computes the same, PyTorch autograd for an edited one."""
import json
import shutil
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import check_main
from nnlab import ROOT, engine
from nnlab.cli import UserError
from nnlab.perceptron.data import load_points
from nnlab.perceptron.train import initial_weights

TANH_HIDDEN = ("        self.hid = activation(self.in_hid(input))",
               "        self.hid = torch.tanh(self.in_hid(input))")
SAME_MATHS = ("        self.hid = activation(self.in_hid(input))\n"
              "        return activation(self.hid_out(self.hid))",
              "        hidden = self.in_hid(input)\n"
              "        self.hid = activation(hidden)  # the same maths, written otherwise\n"
              "        output = self.hid_out(self.hid)\n"
              "        return activation(output)")


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A folder with a copy of check.py (edited by `edit(old, new)`), imported from there."""
    shutil.copy(ROOT / 'check.py', tmp_path / 'check.py')
    shutil.copy(ROOT / 'check.csv', tmp_path / 'check.csv')
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, 'check', raising=False)

    def edit(old, new):
        text = (tmp_path / 'check.py').read_text()
        assert old in text
        (tmp_path / 'check.py').write_text(text.replace(old, new))
    return tmp_path, edit


def run_check(capsys, *argv):
    assert check_main.main(['--plot_dir', 'plot', '--summary', 'run.json', *argv]) == 0
    record = json.loads(open('run.json').read())
    return capsys.readouterr().out, record


def notes(out):
    return [line for line in out.splitlines() if line.startswith('note: ')
            and 'compiling' not in line]


def test_the_shipped_mlp_trains_in_the_kernel_without_a_note(checkout, capsys):
    out, record = run_check(capsys, '--act', 'sig', '--hid', '3', '--seed', '1',
                            '--epoch', '300')
    assert notes(out) == []
    assert record['results']['engine'] == 'compiled'
    assert record['results']['fingerprint'] == engine.SHIPPED[('check.py', 'MLP')][0]


def test_an_mlp_written_otherwise_but_computing_the_same_trains_in_the_kernel(checkout,
                                                                               capsys):
    folder, edit = checkout
    edit(*SAME_MATHS)
    out, record = run_check(capsys, '--act', 'sig', '--hid', '3', '--seed', '1',
                            '--epoch', '300')
    assert notes(out) == [
        "note: check.py's MLP is not the shipped one but computes the same (probe: loss and "
        "gradient within 1e-09 of the compiled kernel's): the compiled kernel trains it"]
    assert record['results']['engine'] == 'compiled'
    assert record['results']['fingerprint'] != engine.SHIPPED[('check.py', 'MLP')][0]


def reference_losses(hid, seed, epochs, lr=0.001, init=0.15):
    """The course's loop, written out here: tanh hidden units, sigmoid output, Adam with
    weight decay 1e-5, BCE on all 9 points, in float64; the loss every 100 epochs."""
    inputs, targets = load_points(ROOT / 'check.csv')
    inputs, targets = inputs.double(), targets.double()
    start = initial_weights(hid, init, seed)
    w1 = start['in_hid_weight'].double().requires_grad_()
    b1 = start['hid_bias'].double().requires_grad_()
    w2 = start['hid_out_weight'].double().requires_grad_()
    b2 = start['out_bias'].double().requires_grad_()
    adam = torch.optim.Adam([w1, b1, w2, b2], lr=lr, weight_decay=1e-5)
    losses = []
    for epoch in range(1, epochs + 1):
        output = torch.sigmoid(torch.tanh(inputs @ w1.T + b1) @ w2.T + b2)
        loss = F.binary_cross_entropy(output, targets)
        if epoch % 100 == 0:
            losses.append(loss.item())
        adam.zero_grad()
        loss.backward()
        adam.step()
    return losses


@pytest.mark.slow
def test_an_edited_activation_trains_as_written_by_autograd(checkout, capsys):
    folder, edit = checkout
    edit(*TANH_HIDDEN)
    out, record = run_check(capsys, '--act', 'sig', '--hid', '3', '--seed', '5',
                            '--epoch', '500')
    [note] = notes(out)
    print(note)
    assert note.startswith("note: check.py's MLP is not the shipped one and computes "
                           "otherwise than the compiled kernel (probe: the ")
    assert ' off by ' in note
    assert "PyTorch autograd trains it in float64, as written (expect it to take about" in note
    results = record['results']
    assert results['engine'] == 'torch'
    logged = [entry['loss'] for entry in results['log']]
    assert np.allclose(logged, reference_losses(3, 5, 500), rtol=0, atol=1e-12)


def test_engine_compiled_refuses_an_mlp_that_computes_otherwise(checkout, capsys):
    folder, edit = checkout
    edit(*TANH_HIDDEN)
    with pytest.raises(UserError) as caught:
        run_check(capsys, '--act', 'sig', '--hid', '3', '--seed', '5', '--epoch', '100',
                  '--engine', 'compiled')
    message = str(caught.value)
    assert '\n' not in message
    assert message.startswith("--engine compiled: check.py's MLP computes otherwise than the "
                              "compiled kernel (probe: the ")
    assert message.endswith("; use --engine auto or torch")


@pytest.mark.slow
def test_the_shipped_file_prints_the_same_numbers_through_autograd(checkout, capsys):
    """A whole check_main.py run (hand-designed start: 2000 epochs at 100%, then the
    analysis), and restarts from random starts, by either engine."""
    for argv in (['--act', 'sig', '--hid', '4', '--set_weights'],
                 ['--act', 'sig', '--hid', '2', '--seed', '3', '--epoch', '300',
                  '--restarts', '2']):
        compiled, _ = run_check(capsys, *argv)
        autograd, record = run_check(capsys, *argv, '--engine', 'torch')
        assert record['results']['engine'] == 'torch'
        assert notes(autograd) == [
            "note: --engine torch: check.py's MLP is the shipped one; PyTorch autograd "
            "trains it in float64, as written (expect it to take about "
            f"{engine.slower_text(engine.SLOWER['check']).split('about ')[1]})"]
        assert [line for line in autograd.splitlines() if not line.startswith('note: ')] \
            == [line for line in compiled.splitlines() if not line.startswith('note: ')]


def test_the_explore_page_says_when_its_part2_is_not_the_edited_mlp(checkout):
    """Part 2 of the explore page runs the shipped MLP: with check.py's activation edited
    it says so in one line; with the shipped file it says nothing."""
    from nnlab.explore import gather
    from nnlab.perceptron.data import load_points
    inputs, targets = load_points('check.csv')
    assert gather.perceptron_differs(inputs, targets, 4) is None
    folder, edit = checkout
    edit(*TANH_HIDDEN)
    line = gather.perceptron_differs(inputs, targets, 4)
    assert line.startswith("check.py's MLP is not the shipped one and computes otherwise "
                           "(probe: the ") and "not your network's" in line
    assert '\n' not in line
