"""The extracted state machine drawn twice: over the hidden-unit scatter (where the
network's states are) and as a clean diagram (what the machine does).

Both use the merged states' names (s0, s1, ... as printed); the scatter rings each
cluster of points and names it by the state it belongs to. Every function returns a
matplotlib figure; pictures.py names and saves it.
"""
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, Polygon

from nnlab.plotting import plt
from nnlab.recurrent.layout import ROW_STEP, bezier, choose_bends, countdown_layout

# Arrow colours of the symbols (A, B, C, ...), dark enough to read over the jet points.
SYMBOL_COLOURS = ['#000000', '#8b008b', '#006400', '#8b4513', '#00008b', '#b8860b', '#2f4f4f']
# State diagram grid, in data units (circles have radius RADIUS).
COL_STEP, COLUMN_ROW_STEP, SUB_STEP = 3.0, 1.6, 1.4
RADIUS = 0.55
# A minority successor drawn when it follows at least this share of a (state, symbol).
MINOR = 0.1


def symbol_colour(symbols, symbol):
    return SYMBOL_COLOURS[symbols.index(symbol) % len(SYMBOL_COLOURS)]


def padded_hull(points, pad):
    """A boundary around 2-D points: the convex hull of small circles of radius `pad`
    around the corners of their hull (so one point or a line still gets a ring)."""
    from scipy.spatial import ConvexHull, QhullError
    pts = np.unique(np.round(np.asarray(points, dtype=float), 4), axis=0)
    try:
        pts = pts[ConvexHull(pts).vertices]
    except (QhullError, ValueError):
        pass                                # too few or collinear points: keep them all
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = pad * np.stack([np.cos(angles), np.sin(angles)], 1)
    padded = (pts[:, None, :] + ring[None]).reshape(-1, 2)
    return padded[ConvexHull(padded).vertices]


def machine_edges(machine, minor=MINOR):
    """[(from, to, symbols, dominant)] with the symbols of one (from, to) joined.

    The most frequent successor of each (state, symbol) is dominant; other successors
    seen at least `minor` times as often are kept (drawn dashed: non-determinism).
    """
    edges = {}
    for s in range(machine.num_states):
        for a, sym in enumerate(machine.symbols):
            row = machine.counts[s, a]
            if row.sum() == 0:
                continue
            top = int(row.argmax())
            for t in np.nonzero(row)[0]:
                dominant = t == top
                if not dominant and row[t] < minor * row.sum():
                    continue
                edges.setdefault((s, int(t), bool(dominant)), []).append(sym)
    return [(s, t, ','.join(syms), dom) for (s, t, dom), syms in edges.items()]


def _arrow(ax, a, b, rad, radius=0.0, dashed=False, colour='k', lw=1.3, head=14):
    """Curved arrow from circle a to circle b (radius in data units)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    dist = np.hypot(*d)
    if dist < 1e-9:
        return
    u = d / dist
    turn = np.arctan(2 * rad)            # arc3 leaves a at this angle off the chord

    def rot(v, ang):
        c, s = np.cos(ang), np.sin(ang)
        return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])

    start = a + radius * rot(u, -turn)
    end = b - radius * rot(u, turn)
    ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f'arc3,rad={rad}',
                                 arrowstyle='-|>', mutation_scale=head, lw=lw,
                                 color=colour, linestyle='--' if dashed else '-',
                                 shrinkA=0, shrinkB=0, zorder=3))


def _arrow_label(ax, a, b, rad, label, colour, fontsize):
    """The symbol beside the middle of the arrow, on its outer side, not on the line."""
    path = bezier(a, b, rad, samples=3)
    d = np.asarray(b, float) - np.asarray(a, float)
    normal = np.array([d[1], -d[0]]) / max(np.hypot(*d), 1e-9)
    side = 1.0 if rad >= 0 else -1.0                  # arc3 bulges along +normal for rad>0
    pos = path[1] + side * normal * 0.17
    ax.text(*pos, label, fontsize=fontsize, ha='center', va='center', zorder=5,
            color=colour, fontweight='bold')


def _self_loop(ax, centre, radius, label, fontsize):
    c = np.asarray(centre, float)
    a = c + radius * np.array([np.cos(np.radians(125)), np.sin(np.radians(125))])
    b = c + radius * np.array([np.cos(np.radians(55)), np.sin(np.radians(55))])
    ax.add_patch(FancyArrowPatch(a, b, connectionstyle='arc3,rad=-1.6', arrowstyle='-|>',
                                 mutation_scale=12, lw=1.2, color='k', shrinkA=0,
                                 shrinkB=0, zorder=3))
    ax.text(c[0], c[1] + 2.1 * radius, label, fontsize=fontsize, ha='center',
            va='bottom', zorder=5)


# ---------------------------------------------------------------- over the scatter

def _label_spot(hull, rings, crowd, placed, pad, box):
    """Where a state's name goes: beside its boundary (nearer to it than to any other
    of the `rings`), inside the axes `box`, as far as it can be from the `crowd` (other
    points, the arrows) and the names already placed."""
    centre = hull.mean(0)
    others = np.vstack([crowd] + placed) if placed else crowd
    best, room = None, -1.0
    for direction in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)):
        d = np.array(direction, float) / np.hypot(*direction)
        edge = hull[np.argmax(hull @ d)]
        spot = centre + d * (np.dot(edge - centre, d) + 2.2 * pad)
        spot = np.clip(spot, [box[0] + 3 * pad, box[2] + 2 * pad],
                       [box[1] - 3 * pad, box[3] - 2 * pad])
        own = np.min(np.hypot(*(hull - spot).T))
        if len(rings) and np.min(np.hypot(*(rings - spot).T)) < own:
            continue                          # it would look like another ring's name
        gap = np.min(np.hypot(*(others - spot).T)) if len(others) else np.inf
        if gap > room * 1.15:                 # the first directions win near-ties
            best, room = spot, gap
    return centre if best is None else best


def anchor_clusters(machine, clusters, state_of):
    """For each edge the machine draws, the cluster pair that carries most of it:
    [(from cluster, to cluster, symbols, dominant)] (self-loops of states left out)."""
    flow = clusters.counts.sum(1)                    # (from cluster, to cluster)
    found = []
    for s, t, symbols, dominant in machine_edges(machine):
        if s == t:
            continue
        froms, tos = np.nonzero(state_of == s)[0], np.nonzero(state_of == t)[0]
        block = flow[np.ix_(froms, tos)]
        c, d = np.unravel_index(block.argmax(), block.shape)
        found.append((int(froms[c]), int(tos[d]), symbols, dominant))
    return found


def fsm_scatter(points, labels, colours, max_state, machine, j, k, initial=None,
                title='', prefix='h', *, clusters, state_of, names):
    """Units j and k of every point, coloured by the language's state, with the state
    machine `machine` drawn over them.

    `labels` gives each point's cluster, `clusters` the clusters' own machine and
    `state_of[c]` (an array) the state of `machine` that cluster c belongs to. Each
    cluster's points get a boundary with its state's name (`names`), so a state spread
    over several places is named at each. Each transition of the machine is one arrow,
    drawn between the two clusters that carry most of it and coloured by symbol
    (legend); dashed: a less frequent successor (the machine is not deterministic there).
    """
    from nnlab.recurrent.views import pair_scatter
    xy = points[:, [j, k]]
    # Trained nets revisit the same points thousands of times: draw each once.
    _, first = np.unique(np.round(np.column_stack([xy, colours]), 3), axis=0,
                         return_index=True)
    fig = pair_scatter(points[first], colours[first], max_state, j, k, initial, title,
                       prefix, figsize=(9, 8))
    ax = fig.axes[0]
    box = (*ax.get_xlim(), *ax.get_ylim())
    span = max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1e-3)
    pad = 0.015 * span
    present = [c for c in range(clusters.num_states) if (labels == c).any()]
    centres = np.zeros((clusters.num_states, 2))
    hulls = {}
    for c in present:
        centres[c] = xy[labels == c].mean(0)
        hulls[c] = padded_hull(xy[labels == c], pad)
        ax.add_patch(Polygon(hulls[c], closed=True, fill=False, ec='k', lw=0.9, zorder=2))
    edges = [e for e in anchor_clusters(machine, clusters, state_of)
             if e[0] in hulls and e[1] in hulls]
    bends = choose_bends(centres, [(c, d) for c, d, _, _ in edges], 0.04 * span,
                         bends=(0.15, -0.15, 0.3, -0.3, 0.45, -0.45), bounds=box)
    paths = []
    for (c, d, symbols, dominant), rad in zip(edges, bends):
        _arrow(ax, centres[c], centres[d], rad, dashed=not dominant,
               colour=symbol_colour(machine.symbols, symbols[0]), lw=1.1, head=11)
        paths.append(bezier(centres[c], centres[d], rad, samples=12))
    arrows = np.vstack(paths) if paths else np.zeros((0, 2))
    shown = labels[first]
    placed = []
    start = machine.start
    for c in present:
        # Clear of the other clusters' points and of the arrows, near its own ring.
        crowd = np.vstack([xy[first][shown != c], arrows])
        rings = np.vstack([h for other, h in hulls.items() if other != c] or [np.zeros((0, 2))])
        spot = _label_spot(hulls[c], rings, crowd, placed, pad, box)
        placed.append(spot[None])
        ax.text(*spot, names[state_of[c]], fontsize=10.5, ha='center', va='center',
                fontweight='bold' if state_of[c] == start else 'normal', zorder=6,
                bbox=dict(boxstyle='round,pad=0.12', fc='white', ec='none', alpha=0.75))
    handles = [Line2D([], [], color=symbol_colour(machine.symbols, sym), lw=1.5,
                      label=f'on {sym}')
               for sym in machine.symbols if any(e[2].startswith(sym) for e in edges)]
    if any(not e[3] for e in edges):
        handles.append(Line2D([], [], color='grey', lw=1.2, linestyle='--',
                              label='less often (not deterministic)'))
    if initial is not None:
        handles.append(Line2D([], [], color='k', marker='x', linestyle='', markersize=9,
                              markeredgewidth=2, label=f'initial state (in {names[start]})'))
    ax.legend(handles=handles, loc='upper center', bbox_to_anchor=(0.5, -0.08),
              ncol=min(len(handles), 4), fontsize=9, frameon=False)
    return fig


# ---------------------------------------------------------------- the diagram

def diagram_layout(machine, order_key):
    """Positions of the states, and the column titles (any language).

    One column per symbol that leads into a state (a start state entered by nothing
    gets its own first column). Rows follow `order_key` rounded (e.g. the mean colour
    state of a state's points, so equal counts sit level across columns). States sharing
    a row of a column sit side by side, in number order.
    """
    k = machine.num_states
    into = machine.counts.sum(0)                    # (symbols, to-states)
    group = np.where(into.sum(0) > 0, into.argmax(0), -1)
    row = np.rint(np.asarray(order_key, dtype=float)).astype(int)
    row -= row.min()
    pos = np.zeros((k, 2))
    left = 0.0
    columns = sorted(set(group.tolist()))
    centres = []
    for c in columns:
        members = sorted((s for s in range(k) if group[s] == c), key=lambda s: (row[s], s))
        taken = set()
        for s in members:
            lane = 0
            while (row[s], lane) in taken:      # two states in one lane and row
                lane += 1
            taken.add((row[s], lane))
            pos[s] = (left + lane * SUB_STEP, -row[s] * COLUMN_ROW_STEP)
        width = 1 + max(lane for _, lane in taken)
        centres.append(left + (width - 1) * SUB_STEP / 2)
        left += (width - 1) * SUB_STEP + COL_STEP
    titles = [f'after {machine.symbols[c]}' if c >= 0 else 'start' for c in columns]
    return pos, list(zip(centres, titles))


def _free_direction(pos, s, reach=1.2):
    """The compass direction from state s whose point at distance `reach` lies farthest
    from every other state (where the start arrow has room); up and left win ties."""
    best, room = np.array([0.0, 1.0]), -1.0
    for ang in (90, 180, 135, 45, 225, 270, 0, 315):
        d = np.array([np.cos(np.radians(ang)), np.sin(np.radians(ang))])
        tail = pos[s] + reach * d
        others = np.delete(pos, s, axis=0)
        gap = np.min(np.hypot(*(others - tail).T)) if len(others) else np.inf
        if gap > room + 1e-6:
            best, room = d, gap
    return best


def state_diagram(machine, order_key=None, title='', names=None, members=None,
                  to_end=None):
    """The machine as circles and arrows: states with what they predict, arrows labelled
    by symbol (dashed = a minority, non-deterministic successor), a start arrow.

    `names` label the states (default s0, s1, ...); `members` adds a small line under a
    name (e.g. the clusters merged into it). With `to_end` (counting
    languages) the states sit on the countdown grid of layout.countdown_layout, else in
    columns by the symbol that leads into them (rows by `order_key`).
    """
    from nnlab.recurrent.fsm import format_prediction, state_names
    names = names or state_names(machine.num_states)
    if to_end is not None:
        pos, columns = countdown_layout(machine, to_end)
    else:
        pos, columns = diagram_layout(machine, order_key)
    lo = pos.min(0) - np.array([1.5, 1.2])
    hi = pos.max(0) + np.array([1.9 if to_end is not None else 1.5, 1.6])
    # Fixed inches per data unit (so text fits the circles), shrunk for big machines
    # so the page stays printable: a tall machine keeps its circles about 1 cm wide.
    scale = min(0.85, 24.0 / max(hi - lo))
    fig, ax = plt.subplots(figsize=tuple(np.maximum((hi - lo) * scale, 4.0)))
    font = max(6.5, 10.5 * scale)
    edges = machine_edges(machine)
    moves = [(s, t) for s, t, _, _ in edges if s != t]
    bends = iter(choose_bends(pos, moves, RADIUS * 1.05))
    for s, t, label, dominant in edges:
        if s == t:
            _self_loop(ax, pos[s], RADIUS, label, fontsize=font)
            continue
        rad = next(bends)
        colour = symbol_colour(machine.symbols, label[0]) if dominant else 'grey'
        _arrow(ax, pos[s], pos[t], rad, radius=RADIUS, dashed=not dominant, colour=colour)
        _arrow_label(ax, pos[s], pos[t], rad, label, colour, 0.85 * font)
    for s in range(machine.num_states):
        start = s == machine.start
        ax.add_patch(Circle(pos[s], RADIUS, fc='#fff3c4' if start else '#dfeeff',
                            ec='k', lw=2.0 if start else 1.2, zorder=4))
        ax.text(pos[s, 0], pos[s, 1] + 0.18, names[s], ha='center', va='center',
                fontsize=1.1 * font, fontweight='bold', zorder=6)
        pred = format_prediction(machine.predict[s], machine.symbols, floor=0.1)
        pred = ' '.join(p.replace(' 0.', ' .').replace(' 1.00', '') for p in
                        pred.split('  ')[:2])
        ax.text(pos[s, 0], pos[s, 1] - 0.1, pred, ha='center', va='center',
                fontsize=0.75 * font, color='#333333', zorder=6)
        if members and members[s]:
            ax.text(pos[s, 0], pos[s, 1] - 0.32, members[s], ha='center', va='center',
                    fontsize=0.62 * font, color='#555555', zorder=6)
    d = _free_direction(pos, machine.start)
    tip = pos[machine.start] + RADIUS * d
    ax.annotate('start', xy=tip, xytext=tip + 0.8 * d, fontsize=font, zorder=6,
                ha='center', va='center',
                arrowprops=dict(arrowstyle='-|>', color='k', lw=2, shrinkA=6, shrinkB=0))
    for x, name in columns:
        ax.text(x, lo[1] + 0.3, name, ha='center', va='bottom', fontsize=font,
                color='#555555')
    if to_end is not None:          # the grid's rows: symbols still to come
        right = pos[:, 0].max() + RADIUS + 0.45
        for y in np.unique(pos[:, 1]):
            ax.text(right, y, f'{round(-y / ROW_STEP)}', ha='left', va='center',
                    fontsize=0.85 * font, color='#777777')
        ax.text(right, pos[:, 1].max() + 0.9, 'to come', ha='left', va='bottom',
                fontsize=0.85 * font, color='#777777')
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect('equal')
    ax.axis('off')
    ax.set_title(title, fontsize=1.15 * font)
    return fig
