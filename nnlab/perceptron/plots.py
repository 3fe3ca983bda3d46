"""Pictures of Part 2: where each hidden unit and the output are on, with the data.

Each picture shades the region where an activation is >= 0.5 over a window that covers
the data with a margin (the course's fixed -1.5..1.5 window cut the 3x3 grid off), and
shows the points coloured by target. Hidden-unit pictures also draw the unit's dividing
line; the output picture draws every hidden line, faintly, to show how they combine.
"""
import os

import torch
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from nnlab.perceptron.report import line_equation
from nnlab.plotting import plt, save_figure

SHADE = ListedColormap(['#ffffff', '#ffd27f'])   # off, on
TARGET_COLOURS = {0: '#1f5fbf', 1: '#d62728'}
GRID_STEPS = 301


def window(inputs, margin=0.25):
    """(xmin, xmax, ymin, ymax): the data's extent plus `margin` of its span (>= 0.5)."""
    low, high = inputs.min(0).values.tolist(), inputs.max(0).values.tolist()
    pad = [max(margin * (h - lo), 0.5) for lo, h in zip(low, high)]
    return low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]


def _grid(box):
    xs = torch.linspace(box[0], box[1], GRID_STEPS)
    ys = torch.linspace(box[2], box[3], GRID_STEPS)
    gy, gx = torch.meshgrid(ys, xs, indexing='ij')
    return xs.numpy(), ys.numpy(), torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)


def _axes(title, box):
    fig, ax = plt.subplots(figsize=(5.6, 5.2))
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect('equal')
    ax.set_xlabel('x')
    ax.set_ylabel('y')
    ax.set_title(title, fontsize=10)
    return fig, ax


def _shade(ax, xs, ys, values):
    on = (values >= 0.5).float().reshape(len(ys), len(xs)).numpy()
    ax.pcolormesh(xs, ys, on, cmap=SHADE, vmin=0, vmax=1, shading='auto')


def _points(ax, inputs, targets):
    for value, colour in TARGET_COLOURS.items():
        chosen = targets[:, 0] == value
        ax.scatter(inputs[chosen, 0].numpy(), inputs[chosen, 1].numpy(), s=70, c=colour,
                   edgecolors='black', linewidths=0.8, zorder=3)


def _line(ax, wx, wy, bias, box, **style):
    """Draw wx*x + wy*y + bias = 0 across the window (nothing if both weights are 0)."""
    if wx == 0 and wy == 0:
        return
    if abs(wy) >= abs(wx):
        xs = [box[0], box[1]]
        ax.plot(xs, [-(wx * x + bias) / wy for x in xs], **style)
    else:
        ys = [box[2], box[3]]
        ax.plot([-(wy * y + bias) / wx for y in ys], ys, **style)


HIDDEN_LINE = dict(color='black', linestyle='--', linewidth=1.5)
FAINT_LINE = dict(color='grey', linestyle=':', linewidth=1)


def _legend(ax, shaded, line, line_style):
    handles = [Patch(facecolor=SHADE.colors[1], edgecolor='grey', label=shaded)]
    handles += [Line2D([], [], marker='o', linestyle='', markersize=8, color=colour,
                       markeredgecolor='black', label=f'target {value}')
                for value, colour in TARGET_COLOURS.items()]
    handles.append(Line2D([], [], label=line, **line_style))
    ax.legend(handles=handles, loc='upper left', bbox_to_anchor=(1.02, 1.0), fontsize=8,
              frameon=False)


def _activations(net, box):
    xs, ys, points = _grid(box)
    with torch.no_grad():
        output = net(points)
    return xs, ys, net.hid, output[:, 0]


def plot_output(net, inputs, targets, path, title, close=True):
    """The region where the network's output is >= 0.5 (it predicts 1)."""
    box = window(inputs)
    xs, ys, _, output = _activations(net, box)
    fig, ax = _axes(title, box)
    _shade(ax, xs, ys, output)
    w = net.get_weights()
    for (wx, wy), bias in zip(w['in_hid_weight'].tolist(), w['hid_bias'].tolist()):
        _line(ax, wx, wy, bias, box, **FAINT_LINE)
    _points(ax, inputs, targets)
    _legend(ax, 'output >= 0.5 (predicts 1)', "hidden units' lines", FAINT_LINE)
    return save_figure(fig, path, close=close)


def plot_hidden(net, node, inputs, targets, path, title, close=True):
    """The region where hidden unit `node` is on (>= 0.5), with its dividing line."""
    box = window(inputs)
    xs, ys, hidden, _ = _activations(net, box)
    fig, ax = _axes(title, box)
    _shade(ax, xs, ys, hidden[:, node])
    w = net.get_weights()
    (wx, wy), bias = w['in_hid_weight'][node].tolist(), w['hid_bias'][node].item()
    _line(ax, wx, wy, bias, box, **HIDDEN_LINE)
    _points(ax, inputs, targets)
    _legend(ax, f'h{node} >= 0.5', line_equation(wx, wy, bias), HIDDEN_LINE)
    return save_figure(fig, path, close=close)


def plot_units(net, inputs, targets, plot_dir, label, close=True):
    """`hid_{hid}_{node}.jpg` for every hidden unit and `out_{hid}.jpg`; returns paths."""
    hid = net.num_hid
    paths = [plot_hidden(net, node, inputs, targets,
                         os.path.join(plot_dir, f'hid_{hid}_{node}.jpg'),
                         f'hidden unit h{node} ({label}): shaded where h{node} >= 0.5',
                         close=close)
             for node in range(hid)]
    paths.append(plot_output(net, inputs, targets, os.path.join(plot_dir, f'out_{hid}.jpg'),
                             f'network output ({label}): shaded where it predicts 1',
                             close=close))
    return paths
