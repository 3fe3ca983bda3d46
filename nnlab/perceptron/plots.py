"""Pictures of Part 2: where each hidden unit and the output are on, with the data.

Each picture shades the region where an activation is >= 0.5 over a window that covers
the data with a margin (the course's fixed -1.5..1.5 window cut the 3x3 grid off), and
shows the points coloured by target. Hidden-unit pictures also draw the unit's dividing
line; the output picture draws every hidden line, faintly, to show how they combine.
"""

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from nnlab.curves import draw_runs, legend_if_any, log_scale_if_positive
from nnlab.perceptron.console import dividing_line, line_equation
from nnlab.plotting import plt, save_figure

SHADE = ListedColormap(['#ffffff', '#ffd27f'])   # off, on
TARGET_COLOURS = {0: '#1f5fbf', 1: '#d62728'}


def window(inputs, margin=0.25):
    """(xmin, xmax, ymin, ymax): the data's extent plus `margin` of its span (>= 0.5)."""
    low, high = inputs.min(0).values.tolist(), inputs.max(0).values.tolist()
    pad = [max(margin * (h - lo), 0.5) for lo, h in zip(low, high)]
    return low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]


# Pixels per side of a shaded region: 1/80 of the data's span, finer than the eye needs
# at print size, and cheap.
GRID_STEPS = 241
# Where the axes sit in the figure (left, bottom, width, height), fixed so a picture
# needs no trimming pass; the legend goes in the space on the right.
FIGSIZE = (7.0, 5.0)
AXES_RECT = (0.09, 0.1, 0.57, 0.8)
DPI = 110
# The activations in numpy (the grid is evaluated without torch and without touching
# net.hid, which keeps the last forward pass of the data for the report).
NUMPY_ACTIVATIONS = {'sig': lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),   # no overflow
                     'step': lambda z: (z >= 0).astype(float)}


def grid_activations(net, box):
    """(hidden (hid, S, S), output (S, S)) on an S x S grid over `box`, rows along y."""
    w = {k: v.double().numpy() for k, v in net.get_weights().items()}
    act = NUMPY_ACTIVATIONS[net.act]
    gx, gy = np.meshgrid(np.linspace(box[0], box[1], GRID_STEPS),
                         np.linspace(box[2], box[3], GRID_STEPS))
    weight, bias = w['in_hid_weight'], w['hid_bias']
    hidden = act(weight[:, 0, None, None] * gx + weight[:, 1, None, None] * gy
                 + bias[:, None, None])
    output = act(np.tensordot(w['hid_out_weight'][0], hidden, axes=1) + w['out_bias'][0])
    return hidden, output


def segment(wx, wy, bias, box):
    """The part of the line wx*x + wy*y + bias = 0 inside the window, as two end points
    ((x0, y0), (x1, y1)), or None when it misses the window or there is no line."""
    if wx == 0 and wy == 0:
        return None
    x0, x1, y0, y1 = box
    if abs(wy) >= abs(wx):              # run along x, clip y afterwards
        ends = np.array([[x, -(wx * x + bias) / wy] for x in (x0, x1)])
    else:
        ends = np.array([[-(wy * y + bias) / wx, y] for y in (y0, y1)])
    t = np.linspace(0.0, 1.0, 401)[:, None]
    pts = ends[0] + t * (ends[1] - ends[0])
    inside = pts[(pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)]
    return (inside[0], inside[-1]) if len(inside) > 1 else None


class _Canvas:
    """One figure for all pictures of a network: the frame and the points are laid out
    once; each picture changes the shading, its lines, the legend and the title, and is
    saved without a trimming pass. That keeps a picture well under 0.2 s."""

    def __init__(self, box, inputs, targets):
        self.box = box
        self.fig = plt.figure(figsize=FIGSIZE)
        ax = self.ax = self.fig.add_axes(AXES_RECT)
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
        ax.set_xlabel('x')
        ax.set_ylabel('y')
        # The activations themselves are shown: the two-colour map cuts them at 0.5, and
        # bilinear interpolation puts that edge between the grid's pixels (no stairs).
        self.image = ax.imshow(np.zeros((2, 2)), extent=box, origin='lower', cmap=SHADE,
                               vmin=0, vmax=1, interpolation='bilinear',
                               interpolation_stage='data', zorder=0)
        ax.set_aspect('equal')
        self.points = inputs.double().numpy()
        for value, colour in TARGET_COLOURS.items():
            chosen = targets[:, 0].numpy() == value
            ax.scatter(self.points[chosen, 0], self.points[chosen, 1], s=70, c=colour,
                       edgecolors='black', linewidths=0.8, zorder=3)
        self.extra = []                 # the current picture's lines and labels

    def draw(self, values, title, lines, shaded, line_text, line_style, labels=None):
        """Shade where `values` (S x S activations) are >= 0.5, draw `lines`
        [(wx, wy, bias)] and, given `labels`, name each line where it is clear of the
        points and of the other names."""
        for artist in self.extra:
            artist.remove()
        self.extra = []
        self.image.set_data(values)
        self.ax.set_title(title, fontsize=10)
        placed = []
        for i, (wx, wy, bias) in enumerate(lines):
            ends = segment(wx, wy, bias, self.box)
            if ends is None:
                continue
            (x0, y0), (x1, y1) = ends
            self.extra += self.ax.plot([x0, x1], [y0, y1], zorder=2, **line_style)
            if labels:
                spot = self._label_spot(ends, placed)
                placed.append(spot)
                self.extra.append(self.ax.text(
                    *spot, labels[i], fontsize=9, ha='center', va='center', zorder=4,
                    color='#333333', bbox=dict(boxstyle='round,pad=0.12', fc='white',
                                               ec='none', alpha=0.85)))
        self.extra.append(_legend(self.ax, shaded, line_text, line_style))

    def _label_spot(self, ends, placed):
        """The point along the segment farthest from the data and the names placed."""
        span = max(self.box[1] - self.box[0], self.box[3] - self.box[2])
        crowd = np.vstack([self.points, *placed]) if placed else self.points
        best, room = None, -1.0
        for t in (0.07, 0.93, 0.25, 0.75, 0.5, 0.15, 0.85, 0.38, 0.62):
            spot = ends[0] + t * (ends[1] - ends[0])
            gap = np.min(np.hypot(*(crowd - spot).T)) / span
            if gap > room + 0.01:       # earlier (nearer the edge) spots win near-ties
                best, room = spot, gap
        return best

    def save(self, path):
        return save_figure(self.fig, path, dpi=DPI, close=False, tight=False)

    def close(self):
        plt.close(self.fig)


HIDDEN_LINE = dict(color='black', linestyle='--', linewidth=1.5)
FAINT_LINE = dict(color='#555555', linestyle=':', linewidth=1.2)


def _legend(ax, shaded, line, line_style):
    handles = [Patch(facecolor=SHADE.colors[1], edgecolor='grey', label=shaded)]
    handles += [Line2D([], [], marker='o', linestyle='', markersize=8, color=colour,
                       markeredgecolor='black', label=f'target {value}')
                for value, colour in TARGET_COLOURS.items()]
    handles.append(Line2D([], [], label=line, **line_style))
    return ax.legend(handles=handles, loc='upper left', bbox_to_anchor=(1.03, 1.0),
                     fontsize=8, frameon=False)


def _unit_lines(net):
    w = net.get_weights()
    return [(wx, wy, b) for (wx, wy), b in zip(w['in_hid_weight'].tolist(),
                                              w['hid_bias'].tolist())]


def _draw_output(canvas, net, output, title):
    lines = _unit_lines(net)
    canvas.draw(output, title, lines, 'output >= 0.5 (predicts 1)',
                "hidden units' lines (named)", FAINT_LINE,
                labels=[f'h{j}' for j in range(len(lines))])


def _draw_hidden(canvas, net, node, hidden, title):
    wx, wy, bias = _unit_lines(net)[node]
    # The legend gives the equation and, shorter, the line solved for y (or x).
    solved = dividing_line(f'h{node}', wx, wy, bias).rsplit('  ', 1)[-1]
    canvas.draw(hidden[node], title, [(wx, wy, bias)], f'h{node} >= 0.5',
                f'h{node}: {line_equation(wx, wy, bias)}\n{solved}', HIDDEN_LINE)


def plot_output(net, inputs, targets, path, title, close=True):
    """The region where the network's output is >= 0.5 (it predicts 1), with every
    hidden unit's line, faint and named."""
    box = window(inputs)
    canvas = _Canvas(box, inputs, targets)
    _draw_output(canvas, net, grid_activations(net, box)[1], title)
    canvas.save(path)
    if close:
        canvas.close()
    return path


def plot_units(net, inputs, targets, hidden_paths, output_path, label, close=True):
    """The picture of every hidden unit (`hidden_paths`, one a unit: hid_{hid}_{node}.jpg)
    and of the output (`output_path`, out_{hid}.jpg); returns the paths.

    The grid is evaluated once and one figure serves every picture; with close=False
    (--show) each picture keeps a figure of its own.
    """
    box = window(inputs)
    hidden, output = grid_activations(net, box)
    canvas = _Canvas(box, inputs, targets)
    paths = []
    for node, path in enumerate(hidden_paths):
        _draw_hidden(canvas, net, node, hidden,
                     f'hidden unit h{node} ({label}): shaded where h{node} >= 0.5')
        paths.append(canvas.save(path))
        if not close:
            canvas = _Canvas(box, inputs, targets)
    _draw_output(canvas, net, output, f'network output ({label}): shaded where it predicts 1')
    paths.append(canvas.save(output_path))
    if close:
        canvas.close()
    return paths


def plot_loss_curves(path, epochs, losses, accuracies, kept=None, title=''):
    """How training went: `plot/loss_{hid}.jpg`, the loss and the accuracy at each
    logged epoch, one line per restart (the kept one strong).

    `epochs` (L,) are the logged epochs; `losses` and `accuracies` are (K, L) or (L,)
    with NaN after a restart stopped; accuracies in percent.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.0))
    draw_runs(left, epochs, losses, kept)
    log_scale_if_positive(left, losses)
    left.set_ylabel('loss (binary cross-entropy)')
    draw_runs(right, epochs, accuracies, kept)
    right.set_ylim(-4, 104)
    right.set_ylabel('accuracy on the points (%)')
    for ax in (left, right):
        ax.set_xlabel('epoch')
        ax.grid(alpha=0.3)
        # 200,000 epochs: '50k' reads better than six digits that run into each other
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda value, _: f'{value / 1000:g}k' if value >= 1000 else f'{value:g}'))
    legend_if_any(right, loc='lower right', fontsize=8)
    fig.suptitle(title or 'training: loss and accuracy per logged epoch')
    fig.tight_layout()
    return save_figure(fig, path)
