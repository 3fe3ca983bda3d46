"""Part 2's batched restarts keep each network's single-run maths; report helpers."""
import pytest
import torch
import torch.nn.functional as F

from check import MLP, accuracy
from nnlab.perceptron.console import dividing_line
from nnlab.perceptron.data import load_points
from nnlab.perceptron.plots import window
from nnlab.perceptron.train import initial_weights, train_restarts

HID = 5


def plain_single_run(seed, lr, epochs, streak):
    """One network trained the obvious way: nn.Linear, autograd, torch.optim.Adam (in
    float64, the compiled trainer's precision, so stopping epochs must agree exactly)."""
    inputs, targets = (t.double() for t in load_points())
    net = MLP(HID, 'sig').double()
    net.load_weights(initial_weights(HID, 0.15, seed))
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-5)
    count = 0
    for epoch in range(1, epochs + 1):  # noqa: B007 (the last epoch is returned)
        optimizer.zero_grad()
        output = net(inputs)
        F.binary_cross_entropy(output, targets).backward()
        optimizer.step()
        count = count + 1 if accuracy(output, targets) == 100.0 else 0
        if count == streak:
            break
    return net.get_weights(), epoch


def batched(seeds, lr, epochs, streak):
    inputs, targets = load_points()
    return train_restarts([initial_weights(HID, 0.15, s) for s in seeds], inputs, targets,
                          lr=lr, epochs=epochs, streak=streak, log=lambda line: None)


@pytest.mark.slow
def test_restarts_follow_a_plain_single_run():
    """Same updates as autograd + torch.optim.Adam (weight decay included), and the same
    stopping epoch per network."""
    result = batched(range(2), lr=0.001, epochs=300, streak=2000)
    for seed, restart in enumerate(result.restarts):
        weights, _ = plain_single_run(seed, lr=0.001, epochs=300, streak=2000)
        for name, value in weights.items():
            assert torch.allclose(restart.weights[name], value.float(), atol=1e-6), \
                (seed, name)
    # A faster rate and a short streak: networks stop at different epochs, and a stopped
    # network stays put while the others train on.
    result = batched(range(4), lr=0.02, epochs=800, streak=100)
    stops = [r.stopped for r in result.restarts]
    assert len(set(stops)) > 2 and max(stops) == 800
    for seed, restart in enumerate(result.restarts):
        weights, stopped = plain_single_run(seed, lr=0.02, epochs=800, streak=100)
        assert restart.stopped == stopped, seed
        for name, value in weights.items():
            assert torch.allclose(restart.weights[name], value.float(), atol=1e-4), \
                (seed, name)


def test_restart_i_is_bit_for_bit_the_single_run_with_seed_plus_i():
    together = batched(range(3, 9), lr=0.02, epochs=800, streak=100).restarts
    for i, restart in enumerate(together):
        alone = batched([3 + i], lr=0.02, epochs=800, streak=100).restarts[0]
        assert (alone.stopped, alone.perfect_since) == (restart.stopped, restart.perfect_since)
        for name in alone.weights:
            assert torch.equal(alone.weights[name], restart.weights[name]), (i, name)


def test_stop_at_first_ends_when_one_finishes_and_keeps_it():
    full = batched(range(4), lr=0.02, epochs=800, streak=100)
    inputs, targets = load_points()
    first = train_restarts([initial_weights(HID, 0.15, s) for s in range(4)], inputs, targets,
                           lr=0.02, epochs=800, streak=100, log=lambda line: None,
                           stop_at_first=True)
    winner = min(full.restarts, key=lambda r: (r.stopped, r.index))
    assert winner.success and winner.stopped < 800
    assert first.first_done == winner.index and first.kept().index == winner.index
    assert first.epochs == winner.stopped
    assert all(r.stopped == winner.stopped for r in first.restarts)
    # The kept network is the one the full run trains, bit for bit.
    for name, value in winner.weights.items():
        assert torch.equal(first.kept().weights[name], value), name


def test_kept_is_the_first_restart_at_the_best_accuracy():
    result = batched(range(4), lr=0.02, epochs=800, streak=100)
    kept = result.kept()
    best = max(r.accuracy for r in result.restarts)
    assert kept.accuracy == best
    assert all(r.accuracy < best for r in result.restarts[:kept.index])


def test_initial_weights_depend_on_the_seed_only():
    a, b = initial_weights(HID, 0.15, 11), initial_weights(HID, 0.15, 11)
    torch.manual_seed(123)  # the global generator plays no part
    c = initial_weights(HID, 0.15, 11)
    d = initial_weights(HID, 0.15, 12)
    for name in a:
        assert torch.equal(a[name], b[name]) and torch.equal(a[name], c[name])
    assert not torch.equal(a['in_hid_weight'], d['in_hid_weight'])


@pytest.mark.parametrize('weights, text', [
    ((1, 1, -0.5), 'h0: 1.00*x + 1.00*y - 0.50 = 0  (y = -x + 0.50)'),
    ((2, -1, 0.25), 'h0: 2.00*x - 1.00*y + 0.25 = 0  (y = 2.00*x + 0.25)'),
    ((2, 0, -1), 'h0: 2.00*x + 0.00*y - 1.00 = 0  (x = 0.50)'),
    ((0, -4, 2), 'h0: 0.00*x - 4.00*y + 2.00 = 0  (y = 0.50)'),
    ((0, 0, 0.3), 'h0: 0.00*x + 0.00*y + 0.30 = 0  '
                  '(no line: both input weights are 0, so h0 is always on)'),
    ((0, 0, -1), 'h0: 0.00*x + 0.00*y - 1.00 = 0  '
                 '(no line: both input weights are 0, so h0 is always off)'),
    # Steeper than 10: solved for x, which says where the line crosses the grid.
    ((-4.6596, 0.0479, 4.0990), 'h0: -4.66*x + 0.05*y + 4.10 = 0  (x = 0.01*y + 0.88)'),
    ((-4.66, 0.001, 4.1), 'h0: -4.66*x + 0.00*y + 4.10 = 0  (x = 0.88)'),
    ((30, 1, -15), 'h0: 30.00*x + 1.00*y - 15.00 = 0  (x = -0.03*y + 0.50)'),
    ((10, -1, 3), 'h0: 10.00*x - 1.00*y + 3.00 = 0  (y = 10.00*x + 3.00)'),   # 10: still y
])
def test_dividing_line_text(weights, text):
    assert dividing_line('h0', *map(float, weights)) == text


def test_picture_window_covers_the_data_with_a_margin():
    inputs, _ = load_points()
    assert window(inputs) == (-0.5, 2.5, -0.5, 2.5)
    xmin, xmax, ymin, ymax = window(torch.tensor([[3.0, -10.0], [7.0, 10.0]]))
    assert xmin < 3 and xmax > 7 and ymin < -10 and ymax > 10
