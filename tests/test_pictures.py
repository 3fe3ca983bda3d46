"""The pictures' numbers, without training: what a picture shows must be what it says."""
import numpy as np
import pytest
import torch
from PIL import Image

from check import MLP
from nnlab.kmnist.pictures import plot_curve, plot_mistakes
from nnlab.kmnist.tables import choose_mistakes, confused_pairs, typical_correct
from nnlab.perceptron.data import load_points
from nnlab.perceptron.plots import (
    GRID_STEPS,
    grid_activations,
    plot_loss_curves,
    plot_output,
    segment,
    window,
)
from nnlab.plotting import plt
from nnlab.recurrent import fsm, layout, views


def assert_jpeg(path, min_side=300):
    with Image.open(path) as picture:
        assert picture.format == 'JPEG' and min(picture.size) >= min_side, picture.size


# ---------------------------------------------------------------- Part 1

def confused_data(seed=0, n=600):
    """Labels, predictions with planted confusions (su -> ha 30 times, ...), images."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    predictions = labels.copy()
    for true, wrong, count in ((2, 5, 30), (7, 8, 20), (1, 6, 9)):
        where = np.nonzero(labels == true)[0][:count]
        predictions[where] = wrong
    confusion = np.zeros((10, 10))
    np.add.at(confusion, (labels, predictions), 1)
    images = rng.normal(size=(n, 1, 28, 28)).astype(np.float32)
    return confusion, predictions, labels, images


def test_mistakes_chosen_are_misclassified_as_labelled():
    confusion, predictions, labels, _ = confused_data()
    rows = choose_mistakes(confusion, predictions, labels, k=3, count=6)
    assert [(t, p, c) for t, p, c, _ in rows] == confused_pairs(confusion, 3) == \
        [(2, 5, 30), (7, 8, 20), (1, 6, 9)]
    for true, wrong, _, idx in rows:
        assert len(idx) == 6
        assert (labels[idx] == true).all() and (predictions[idx] == wrong).all()
    # a net without mistakes: nothing to show, and the picture says so
    perfect = np.diag(np.bincount(labels, minlength=10)).astype(float)
    assert choose_mistakes(perfect, labels, labels) == []


def test_typical_images_are_read_right_and_closest_to_the_mean():
    confusion, predictions, labels, images = confused_data()
    picked = typical_correct(images, predictions, labels, 2, count=3)
    right = np.nonzero((labels == 2) & (predictions == 2))[0]
    assert set(picked) <= set(right) and len(picked) == 3
    flat = images[right].reshape(len(right), -1)
    distance = ((flat - flat.mean(0)) ** 2).sum(1)
    assert sorted(distance)[:3] == pytest.approx(sorted(distance[np.isin(right, picked)]))


def test_part1_pictures_are_written(tmp_path):
    confusion, predictions, labels, images = confused_data()
    rows = choose_mistakes(confusion, predictions, labels)
    plot_mistakes(torch.from_numpy(images), labels, predictions, rows,
                  str(tmp_path / 'mistakes.jpg'), 'mistakes')
    assert_jpeg(tmp_path / 'mistakes.jpg')
    plot_mistakes(images, labels, labels, [], str(tmp_path / 'none.jpg'), 'none')
    history = [('train', 1, 0, 0, 2.3, None, None), ('train', 1, 100, 6400, 0.9, None, None),
               ('test', 1, None, None, 1.1, 6000, 60.0),
               ('train', 2, 0, 0, 0.8, None, None), ('test', 2, None, None, 0.9, 6500, 65.0)]
    plot_curve(history, 7011, str(tmp_path / 'curve.jpg'), 'curve')
    assert_jpeg(tmp_path / 'curve.jpg')


# ---------------------------------------------------------------- Part 2

def trained_like_net(act='sig'):
    torch.manual_seed(3)
    net = MLP(5, act)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(6.0)
    return net


@pytest.mark.parametrize('act', ['sig', 'step'])
def test_region_grid_is_the_networks_own_output(act):
    """The shaded regions are computed in numpy: at the data points (which lie on the
    grid) they must equal the network's forward pass."""
    net = trained_like_net(act)
    inputs, _ = load_points()
    box = window(inputs)
    hidden, output = grid_activations(net, box)
    assert hidden.shape == (5, GRID_STEPS, GRID_STEPS)
    step = (box[1] - box[0]) / (GRID_STEPS - 1)
    cols = np.rint((inputs[:, 0].numpy() - box[0]) / step).astype(int)
    rows = np.rint((inputs[:, 1].numpy() - box[2]) / step).astype(int)
    with torch.no_grad():
        expected = net(inputs)[:, 0].numpy()
        expected_hidden = net.hid.numpy()
    assert np.allclose(output[rows, cols], expected, atol=1e-5)
    assert np.allclose(hidden[:, rows, cols].T, expected_hidden, atol=1e-5)


def test_output_picture_names_each_hidden_line(tmp_path):
    net = trained_like_net()
    inputs, targets = load_points()
    plot_output(net, inputs, targets, str(tmp_path / 'out_5.jpg'), 'out', close=False)
    fig = plt.gcf()
    names = sorted(t.get_text() for t in fig.axes[0].texts)
    w = net.get_weights()
    crossing = [f'h{j}' for j, ((wx, wy), b) in enumerate(zip(w['in_hid_weight'].tolist(),
                                                             w['hid_bias'].tolist()))
                if segment(wx, wy, b, window(inputs)) is not None]
    assert names == crossing and crossing          # every line in the window, by name
    plt.close(fig)
    assert_jpeg(tmp_path / 'out_5.jpg')


def test_segment_is_clipped_to_the_window():
    box = (-0.5, 2.5, -0.5, 2.5)
    (x0, y0), (x1, y1) = segment(1.0, 1.0, -0.5, box)         # x + y = 0.5
    assert x0 + y0 == pytest.approx(0.5, abs=0.02) and x1 + y1 == pytest.approx(0.5, abs=0.02)
    assert min(x0, x1) >= -0.5 and max(y0, y1) <= 2.5
    assert segment(1.0, 0.0, -10.0, box) is None              # x = 10: outside
    assert segment(0.0, 0.0, 1.0, box) is None                # no line at all


def test_loss_curves_of_restarts(tmp_path):
    epochs = np.arange(100, 1001, 100)
    losses = np.vstack([np.linspace(0.7, 0.01, 10), np.linspace(0.7, 0.3, 10)])
    losses[1, 6:] = np.nan                                     # restart 1 stopped
    accuracies = np.vstack([np.linspace(50, 100, 10), np.linspace(40, 70, 10)])
    accuracies[1, 6:] = np.nan
    path = plot_loss_curves(str(tmp_path / 'loss_5.jpg'), epochs, losses, accuracies, kept=0,
                            title='two restarts')
    assert_jpeg(path)
    plot_loss_curves(str(tmp_path / 'one.jpg'), epochs, losses[0], accuracies[0])
    assert_jpeg(tmp_path / 'one.jpg')


# ---------------------------------------------------------------- Part 3

def test_verdict_statistic_is_the_criterion_over_the_last_checks():
    values = [0.2, 0.1, 0.04, 0.03, 0.06, 0.01]
    assert np.isnan(views.verdict_statistic(values, 3, True)[:2]).all()
    assert views.verdict_statistic(values, 3, True)[2:].tolist() == [0.2, 0.1, 0.06, 0.06]
    assert views.verdict_statistic(values, 3, False)[-1] == pytest.approx(0.1 / 3)


def test_loss_curve_draws_the_threshold_and_every_run():
    runs = [[0.3, 0.2, 0.04, 0.03], [0.3, 0.25, 0.2, 0.2, 0.1]]
    fig = views.loss_curve(runs, 1000, 0.05, 'loss', consistently=True, best=1,
                           labels=['run 0', 'run 1'], window=2)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert 'run 1 (best)' in labels and 'run 0' in labels
    threshold = next(line for line in ax.get_lines() if line.get_label().startswith('success'))
    assert set(threshold.get_ydata()) == {0.05}
    assert 'loss below 0.05 in each of the last 2 checks' in threshold.get_label()
    best = next(line for line in ax.get_lines() if line.get_label() == 'run 1 (best)')
    assert best.get_xdata().tolist() == [1, 2, 3, 4, 5]        # thousands of examples
    plt.close(fig)


def anb2n_machine():
    """The minimal anb2n machine for n <= 2: s0 start/end, A1 A2, B countdown 3..1."""
    # states: 0 end, 1 A1, 2 A2, 3 one B to come, 4 two, 5 three; symbols A=0 B=1
    counts = np.zeros((6, 2, 6), dtype=np.int64)
    for s, a, t in ((0, 0, 1), (1, 0, 2), (1, 1, 3), (2, 1, 5), (5, 1, 4), (4, 1, 3),
                    (3, 1, 0)):
        counts[s, a, t] = 10
    return fsm.Machine('AB', counts, np.full((6, 2), 0.5), np.full(6, 10), 0)


def test_countdown_layout_keeps_the_chain_in_a_lane_and_nothing_crosses():
    machine = anb2n_machine()
    to_end = [0, 2, 3, 1, 2, 3]       # the A states' own to_end does not matter
    pos, titles = layout.countdown_layout(machine, to_end)
    step = pos[3, 1] - pos[4, 1]
    assert step > 0 and pos[4, 1] - pos[5, 1] == pytest.approx(step)   # one row a B
    assert pos[3, 0] == pos[4, 0] == pos[5, 0] == pos[0, 0]             # one lane
    assert pos[1, 0] == pos[2, 0] < pos[3, 0]                           # A's on the left
    assert pos[1, 1] == pos[3, 1] and pos[2, 1] == pos[5, 1]            # level with their B
    assert len({tuple(p) for p in pos}) == 6
    edges = [(s, t) for s in range(6) for a in range(2) for t in range(6)
             if machine.counts[s, a, t]]
    bends = layout.choose_bends(pos, edges, 0.5)
    paths = [layout.bezier(pos[s], pos[t], r) for (s, t), r in zip(edges, bends)]
    crossings = sum(layout._crossings(a, b) for i, a in enumerate(paths)
                    for b in paths[i + 1:])
    assert crossings == 0
    assert [name for _, name in titles] == ['A count', 'symbols to come']


def test_to_end_of_string():
    assert layout.to_end_of_string('AABBBBABBA').tolist() == [0, 5, 4, 3, 2, 1, 0, 2, 1, 0]
