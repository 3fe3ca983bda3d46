"""What trains seq_models.py's models is what the file says (nnlab/engine.py), and
seq_plot.py analyses a checkpoint only with the model that trained it."""
import json
import shutil
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import seq_plot
import seq_train
from nnlab import ROOT, engine
from nnlab.cli import UserError
from nnlab.engine import Choice
from nnlab.recurrent import checkpoint, generalise, languages
from nnlab.recurrent.trainer import Config, Trainer, pack_block

TANH_STEP = 'h = torch.tanh(x_part[:, t] + h @ self.U)'
RELU_STEP = 'h = torch.relu(x_part[:, t] + h @ self.U)'
SAME_STEP = 'h = torch.tanh(x_part[:, t] + torch.matmul(h, self.U))  # written otherwise'


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A folder with a copy of seq_models.py, imported from there; `edit(new_step)` changes
    the SRN's step. Checkpoints are written in this process (one thread)."""
    shutil.copy(ROOT / 'seq_models.py', tmp_path / 'seq_models.py')
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv('NUMBA_NUM_THREADS', '1')
    monkeypatch.delitem(sys.modules, 'seq_models', raising=False)

    def edit(step):
        path = tmp_path / 'seq_models.py'
        text = path.read_text()
        assert TANH_STEP in text
        path.write_text(text.replace(TANH_STEP, step))
        sys.modules.pop('seq_models', None)
    return tmp_path, edit


def train(capsys, *argv):
    assert seq_train.main(['--lang', 'anb2n', '--out_path', 'net', '--plot_dir', 'plot',
                           *argv]) == 0
    record = json.loads(open('net/anb2n_srn2_run.json').read())
    return capsys.readouterr().out, record


def notes(out):
    return [line for line in out.splitlines()
            if line.startswith('note: ') and 'compiling' not in line]


def comparable(out):
    """The printed numbers: without notes and the timing line."""
    return [line for line in out.splitlines()
            if not line.startswith(('note: ', 'trained '))]


@pytest.mark.slow
def test_a_relu_srn_trains_as_written_and_engine_compiled_refuses_it(checkout, capsys):
    folder, edit = checkout
    edit(RELU_STEP)
    with pytest.raises(UserError) as refused:
        train(capsys, '--epoch', '1', '--seed', '2', '--engine', 'compiled')
    message = str(refused.value)
    assert '\n' not in message and message.startswith(
        "--engine compiled: seq_models.py's SRN_model computes otherwise than the compiled "
        "kernel (probe: ")
    assert not (folder / 'net').exists()              # nothing written or moved aside
    out, record = train(capsys, '--epoch', '1', '--seed', '2')
    [note] = notes(out)
    assert note.startswith("note: seq_models.py's SRN_model is not the shipped one and "
                           "computes otherwise than the compiled kernel (probe: ")
    assert 'PyTorch autograd trains it in float64, as written' in note
    relu_fingerprint = engine.fingerprints(folder / 'seq_models.py', 'SRN_model')[0]
    assert (record['results']['engine'], record['results']['fingerprint']) == \
        ('torch', relu_fingerprint)
    _, meta = checkpoint.load('net/anb2n_srn2_1.pth')
    assert (meta.engine, meta.fingerprint) == ('torch', relu_fingerprint)
    # the explore page runs the shipped models' maths: it leaves this run out, saying why
    from nnlab.explore import gather
    from nnlab.page.sources import Sources
    part3 = gather.part3(Sources('plot', 'net', 'explore', say=lambda line: None))
    assert part3['runs'] == []
    [line] = [n for n in part3['notes'] if 'anb2n_srn2_1.pth' in n]
    assert 'left out: it was trained by PyTorch autograd with an edited SRN of ' \
           'seq_models.py, which the page does not run' in line


def relu_reference(theta, symbols, starts, lr, weight_decay):
    """The relu SRN and its training written out here: h = relu(x W + h U + b) from
    tanh(H0), softmax outputs, one SGD step per example on the mean NLL."""
    H0, W, U, b, V, c = [torch.tensor(v, requires_grad=True) for v in theta]
    sgd = torch.optim.SGD([H0, W, U, b, V, c], lr=lr, weight_decay=weight_decay)
    losses = []
    for e in range(starts.shape[1] - 1):
        seq = torch.as_tensor(symbols[starts[0, e]:starts[0, e + 1]])
        h, loss = torch.tanh(H0), 0.0
        for t in range(len(seq) - 1):
            h = torch.relu(W[seq[t]] + b + h @ U)
            loss = loss - F.log_softmax(h @ V + c, -1)[seq[t + 1]]
        loss = loss / (len(seq) - 1)
        sgd.zero_grad()
        loss.backward()
        sgd.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy() for p in (H0, W, U, b, V, c)]


def test_the_autograd_losses_of_a_relu_srn_are_those_of_a_loop_written_here(checkout):
    _, edit = checkout
    edit(RELU_STEP)
    config = Config(lang='anb2n', model='srn', hid=2, optim='sgd', lr=0.05, mom=0.0,
                    weight_decay=1e-4, epoch=1, seed=3)
    spec = languages.get_spec('anb2n')
    lang = spec.make(False, None)
    trainer = Trainer(spec, lang, config, choice=Choice('torch', None, False))
    layout = trainer.layout
    start = [trainer.theta[0, a:b].reshape(shape).copy()
             for a, b, shape in layout.offsets.values()]
    flat, _, _, lengths = lang.sample_arrays(np.random.default_rng(7), 60)
    symbols, starts = pack_block([(flat, lengths)])
    losses = trainer.autograd.train(symbols, starts)
    want_losses, want_weights = relu_reference(start, symbols, starts, 0.05, 1e-4)
    assert np.allclose(losses[0], want_losses, rtol=0, atol=1e-12)
    assert np.allclose(trainer.theta[0], np.concatenate([w.ravel() for w in want_weights]),
                       rtol=0, atol=1e-12)


def test_an_srn_written_otherwise_trains_in_the_kernel_with_the_same_numbers(checkout,
                                                                               capsys):
    """The probe uses its own random numbers: --seed prints what the shipped file does."""
    _, edit = checkout
    shipped, record = train(capsys, '--epoch', '1', '--seed', '4')
    assert notes(shipped) == [] and record['results']['engine'] == 'compiled'
    shutil.rmtree('net')
    edit(SAME_STEP)
    out, record = train(capsys, '--epoch', '1', '--seed', '4')
    assert notes(out) == [
        "note: seq_models.py's SRN_model is not the shipped one but computes the same (probe: "
        "loss and gradient within 1e-09 of the compiled kernel's): the compiled kernel trains "
        "it"]
    assert record['results']['engine'] == 'compiled'
    assert comparable(out) == comparable(shipped)


@pytest.mark.slow
def test_the_shipped_srn_prints_the_same_numbers_through_autograd(checkout, capsys):
    """2,000 examples of seq_train.py by either engine: the same printed numbers."""
    compiled, _ = train(capsys, '--epoch', '2', '--seed', '5')
    shutil.rmtree('net')
    autograd, record = train(capsys, '--epoch', '2', '--seed', '5', '--engine', 'torch')
    assert record['results']['engine'] == 'torch'
    assert notes(autograd) == [
        "note: --engine torch: seq_models.py's SRN_model is the shipped one; PyTorch autograd "
        "trains it in float64, as written "
        f"({engine.slower_text(engine.SLOWER['seq_models'])})"]
    assert comparable(autograd) == comparable(compiled)


def relu_right(model_weights, multiples, count):
    """generalise.py's rule, by a relu SRN written out here in numpy: per n, whether the
    most probable symbol is the determined one at every determined position."""
    H0, W, U, b, V, c = model_weights
    right = []
    for n in range(1, count + 1):
        seq = generalise.string(multiples, n)
        fixed = generalise.determined(multiples, n)
        h, ok = np.tanh(H0), True
        for t in range(len(seq) - 1):
            h = np.maximum(W[seq[t]] + b + h @ U, 0.0)
            logits = h @ V + c
            if fixed[t + 1]:
                others = np.delete(logits, seq[t + 1])
                ok = ok and logits[seq[t + 1]] > others.max()
        right.append(bool(ok))
    return right


@pytest.mark.slow
def test_seq_plot_analyses_weights_only_with_the_model_that_trained_them(checkout, capsys):
    folder, edit = checkout
    train(capsys, '--epoch', '1', '--seed', '6')          # by the kernel, the shipped SRN
    edit(RELU_STEP)
    argv = ['--lang', 'anb2n', '--epoch', '1', '--num_plot', '1', '--out_path', 'net',
            '--plot_dir', 'plot', '--generalise', '12']
    with pytest.raises(UserError) as refused:
        seq_plot.main(argv)
    assert str(refused.value).startswith(
        "net/anb2n_srn2_1.pth was trained by the compiled kernel (the shipped SRN_model); "
        "the SRN_model in seq_models.py now computes otherwise (probe: ")
    # A checkpoint the relu SRN trained (by autograd) is analysed by the relu SRN itself.
    model, meta = checkpoint.load('net/anb2n_srn2_1.pth')
    rng = np.random.default_rng(0)
    weights = [rng.normal(0.0, 1.5, p.shape) for p in model.parameters()]
    row = np.concatenate([w.ravel() for w in weights])
    relu = engine.fingerprints(folder / 'seq_models.py', 'SRN_model')[0]
    checkpoint.save_weights('net/anb2n_srn2_1.pth', 'srn', 2, 2, row,
                            meta.__class__(**dict(vars(meta), engine='torch',
                                                  fingerprint=relu)))
    capsys.readouterr()
    assert seq_plot.main(argv) == 0
    analysis = json.loads(open('plot/anb2n_srn2_analysis.json').read())
    stored = [np.asarray(w, np.float32).astype(np.float64) for w in weights]
    assert analysis['generalise']['right'] == relu_right(stored, (2,), 12)


WITH_CONTEXT = '''    def forward(self, x, context=False):
        x_part = x @ self.W + self.hid_bias           # input contribution, all steps at once
        hidden, ctx = self._run(x_part)
        output = hidden @ self.V + self.out_bias
        return (hidden, output, ctx) if context else (hidden, output)'''
WITHOUT_CONTEXT = '''    def forward(self, x):
        x_part = x @ self.W + self.hid_bias
        hidden, _ = self._run(x_part)
        return hidden, hidden @ self.V + self.out_bias'''


@pytest.mark.slow
def test_a_forward_without_context_loses_only_the_cell_states(checkout, capsys):
    """A course-style forward(x) (no `context`): seq_plot.py's pictures, --fsm, --explain
    and --generalise work on the hidden states, with one note; --context, which needs the
    cell states, is one error line."""
    folder, _ = checkout
    text = (folder / 'seq_models.py').read_text()
    assert WITH_CONTEXT in text
    assert seq_train.main(['--lang', 'anbn', '--model', 'lstm', '--hid', '2', '--epoch', '1',
                           '--seed', '1', '--out_path', 'net', '--plot_dir', 'plot']) == 0
    (folder / 'seq_models.py').write_text(text.replace(WITH_CONTEXT, WITHOUT_CONTEXT))
    sys.modules.pop('seq_models', None)
    argv = ['--lang', 'anbn', '--model', 'lstm', '--hid', '2', '--epoch', '1',
            '--num_plot', '2', '--examples', '40', '--out_path', 'net', '--plot_dir', 'plot']
    capsys.readouterr()
    with pytest.raises(UserError) as refused:
        seq_plot.main([*argv, '--context'])
    assert str(refused.value).startswith("--context: seq_models.py's LSTM_model.forward "
                                         "takes no `context` argument, so its cell states "
                                         "cannot be read")
    assert seq_plot.main([*argv, '--fsm', '--explain', '--generalise', '12']) == 0
    out = capsys.readouterr().out
    [note] = [line for line in out.splitlines() if 'takes no `context`' in line]
    assert note.startswith('note: ') and note.endswith('use the hidden states alone')
    analysis = json.loads(open('plot/anbn_lstm2_analysis.json').read())
    assert analysis['fsm']['with_cell'] is False and analysis['generalise']['checked'] == 12
