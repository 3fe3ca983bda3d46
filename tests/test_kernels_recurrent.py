"""The compiled SRN/LSTM/GRU trainer against autograd and torch.optim (float64), and its
promise that run i of K runs is bit for bit the single run."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnlab.recurrent import kernels
from seq_models import make_model

KINDS = ('srn', 'lstm', 'gru')
TOLERANCE = 1e-10


def random_model(kind, num_symbols, hid, seed):
    """A float64 model with weights large enough that every gate and unit matters."""
    torch.manual_seed(seed)
    return make_model(kind, num_symbols, hid, num_symbols, init=0.5).double()


def random_examples(rng, num_symbols, count, shortest=2, longest=30):
    return [rng.integers(0, num_symbols, rng.integers(shortest, longest + 1))
            for _ in range(count)]


def packed(examples):
    """The examples as one symbols array and the boundaries of a single run (1, n+1)."""
    symbols = np.concatenate(examples)
    starts = np.concatenate([[0], np.cumsum([len(e) for e in examples])])
    return symbols, starts[None, :]


def torch_loss(model, seq):
    """The course's loss of one example: mean NLL of each next symbol."""
    seq = torch.as_tensor(seq)
    inputs = F.one_hot(seq[:-1], model.num_input).double().unsqueeze(0)
    _, output = model(inputs)
    return F.nll_loss(F.log_softmax(output[0], dim=-1), seq[1:])


def flat_grad(model):
    return np.concatenate([p.grad.numpy().ravel() for _, p in model.named_parameters()])


@pytest.mark.slow
@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('num_symbols,hid', [(2, 2), (3, 3), (7, 4)])
def test_loss_and_gradient_equal_autograd(kind, num_symbols, hid):
    rng = np.random.default_rng(num_symbols * 10 + hid)
    model = random_model(kind, num_symbols, hid, seed=hid)
    layout = kernels.Layout(kind, num_symbols, hid)
    theta = layout.from_model(model)
    for seq in random_examples(rng, num_symbols, 4) + [np.array([0, num_symbols - 1])]:
        model.zero_grad()
        expected = torch_loss(model, seq)
        expected.backward()
        loss, grad = kernels.loss_and_grad(kind, layout, theta, seq)
        assert abs(loss - expected.item()) < TOLERANCE
        assert grad.shape == (layout.size,)
        np.testing.assert_allclose(grad, flat_grad(model), rtol=0, atol=TOLERANCE)
        assert np.abs(grad).max() > 1e-3        # a real gradient, not zeros matching zeros


OPTIMISERS = [('sgd', 0.0, 0.01), ('sgd', 0.9, 0.01), ('adam', 0.0, 0.01)]


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('optim,mom,weight_decay', OPTIMISERS)
def test_five_steps_equal_torch_optim(kind, optim, mom, weight_decay):
    num_symbols, hid, lr = 3, 3, 0.05
    rng = np.random.default_rng(7)
    examples = random_examples(rng, num_symbols, 5, shortest=5)
    model = random_model(kind, num_symbols, hid, seed=3)
    layout = kernels.Layout(kind, num_symbols, hid)
    theta = layout.from_model(model)[None, :].copy()
    state = kernels.OptimiserState(1, layout.size)
    symbols, starts = packed(examples)
    # Two calls, 3 examples then 2: the optimiser state must carry over between them.
    losses = np.concatenate([
        kernels.train(kind, layout, theta, state, symbols, starts[:, :4], optim, lr, mom,
                      weight_decay),
        kernels.train(kind, layout, theta, state, symbols, starts[:, 3:], optim, lr, mom,
                      weight_decay)], axis=1)

    if optim == 'sgd':
        optimiser = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom,
                                    weight_decay=weight_decay)
    else:
        optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    expected_losses = []
    for seq in examples:
        optimiser.zero_grad()
        loss = torch_loss(model, seq)
        loss.backward()
        optimiser.step()
        expected_losses.append(loss.item())

    np.testing.assert_allclose(losses[0], expected_losses, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(theta[0], layout.from_model(model), rtol=0, atol=TOLERANCE)
    assert state.steps[0] == 5
    # The steps moved the weights well beyond the tolerance, so the comparison has teeth.
    assert np.abs(theta[0] - layout.from_model(random_model(kind, 3, 3, seed=3))).max() > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize('kind', KINDS)
def test_forward_equals_model(kind):
    num_symbols, hid = 4, 3
    model = random_model(kind, num_symbols, hid, seed=11)
    theta = kernels.Layout(kind, num_symbols, hid).from_model(model)
    seq = np.random.default_rng(5).integers(0, num_symbols, 25)
    hidden, probs, cell = kernels.forward(kind, (num_symbols, hid), theta, seq)

    inputs = F.one_hot(torch.as_tensor(seq[:-1]), num_symbols).double().unsqueeze(0)
    with torch.no_grad():
        expected_hidden, output, context = model(inputs, context=True)
    assert hidden.shape == (24, hid) and probs.shape == (24, num_symbols)
    np.testing.assert_allclose(hidden, expected_hidden[0].numpy(), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(probs, torch.softmax(output[0], -1).numpy(), rtol=0,
                               atol=TOLERANCE)
    if kind == 'lstm':
        np.testing.assert_allclose(cell, context['cell'][0].numpy(), rtol=0, atol=TOLERANCE)
    else:
        assert cell is None


@pytest.mark.parametrize('kind', KINDS)
def test_run_i_of_k_is_the_single_run_bit_for_bit(kind, monkeypatch):
    num_symbols, hid, runs, count = 3, 2, 3, 40
    layout = kernels.Layout(kind, num_symbols, hid)
    rng = np.random.default_rng(1)
    initial = rng.normal(0.0, 0.5, (runs, layout.size))
    per_run = [random_examples(rng, num_symbols, count) for _ in range(runs)]
    symbols = np.concatenate([np.concatenate(examples) for examples in per_run])
    lengths = np.array([[len(e) for e in examples] for examples in per_run])
    starts = np.concatenate([np.zeros((runs, 1), dtype=np.int64), np.cumsum(lengths, 1)], 1)
    starts += np.concatenate([[0], np.cumsum(lengths.sum(1))[:-1]])[:, None]

    def train_twice(theta, state, rows):      # two blocks, as a caller does
        losses = [kernels.train(kind, layout, theta, state, symbols, starts[rows, :21],
                                'adam', 0.01, 0.0, 1e-5),
                  kernels.train(kind, layout, theta, state, symbols, starts[rows, 20:],
                                'adam', 0.01, 0.0, 1e-5)]
        return np.concatenate(losses, axis=1)

    together = initial.copy()
    state = kernels.OptimiserState(runs, layout.size)
    losses = train_twice(together, state, slice(None))
    for i in range(runs):
        alone = initial[i:i + 1].copy()
        alone_state = kernels.OptimiserState(1, layout.size)
        alone_losses = train_twice(alone, alone_state, slice(i, i + 1))
        assert np.array_equal(alone[0], together[i])
        assert np.array_equal(alone_losses[0], losses[i])
        assert np.array_equal(alone_state.first[0], state.first[i])
        assert np.array_equal(alone_state.second[0], state.second[i])
    assert not np.array_equal(together[0], together[1])
    assert not np.array_equal(together[1], together[2])
    assert (state.steps == 2 * 20).all()

    # However many threads share the runs, the numbers are the same.
    monkeypatch.setenv('NUMBA_NUM_THREADS', '1')       # what sweep.py gives its tasks
    one_thread = initial.copy()
    train_twice(one_thread, kernels.OptimiserState(runs, layout.size), slice(None))
    assert np.array_equal(one_thread, together)


def test_layout_follows_named_parameters_and_any_dtype():
    model = make_model('srn', 3, 2, 3)                   # float32
    layout = kernels.Layout('srn', 3, 2)
    assert list(layout.offsets) == [name for name, _ in model.named_parameters()]
    assert layout.size == sum(p.numel() for p in model.parameters())
    row = np.arange(layout.size, dtype=np.float64) / 8.0  # exact in float32
    layout.to_model(row, model)
    assert model.W.dtype == torch.float32
    assert np.array_equal(layout.from_model(model), row)
    assert model.H0.tolist() == [0.0, 0.125]
    with pytest.raises(ValueError):
        kernels.Layout('lstm', 3, 2).from_model(model)


def test_bad_input_is_refused_before_the_kernel_runs():
    layout = kernels.Layout('srn', 2, 2)
    theta = np.zeros((1, layout.size))
    state = kernels.OptimiserState(1, layout.size)
    with pytest.raises(ValueError, match='symbol'):
        kernels.train('srn', layout, theta, state, np.array([0, 2, 1]), [[0, 3]], 'sgd', 0.1)
    with pytest.raises(ValueError, match='at least 2'):
        kernels.train('srn', layout, theta, state, np.array([0, 1, 1]), [[0, 1, 3]], 'sgd',
                      0.1)
    with pytest.raises(ValueError, match='optimiser'):
        kernels.train('srn', layout, theta, state, np.array([0, 1]), [[0, 2]], 'rmsprop', 0.1)
