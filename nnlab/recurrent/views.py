"""Pictures of recurrent hidden states: pair scatters, 3-D views and rotation, the state
machine drawn over a scatter and as a clean diagram, and the counter-analysis panels.

Every function returns a matplotlib figure (or writes a GIF); saving and naming is the
caller's job (seq_plot.py).
"""
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, Polygon
from matplotlib.ticker import MaxNLocator

from nnlab.plotting import plt, save_animation

CMAP = 'jet'
# Arrow colours of the symbols (A, B, C, ...), dark enough to read over the jet points.
SYMBOL_COLOURS = ['#000000', '#8b008b', '#006400', '#8b4513', '#00008b', '#b8860b', '#2f4f4f']
# Views for the still 3-D pictures: (elevation, azimuth) in degrees.
VIEWS_3D = [(25, -60), (90, -90), (0, -90), (0, 0)]
# State diagram grid, in data units (circles have radius 0.5).
COL_STEP, ROW_STEP, SUB_STEP = 3.0, 1.6, 1.4
# Which unit each still view looks along (None: the perspective view).
VIEW_ALONG = [None, 2, 1, 0]


def _state_colours(ax, fig, points_xy, colours, max_state, size=14):
    sc = ax.scatter(*points_xy, c=colours, cmap=CMAP, vmin=0, vmax=max_state, s=size,
                    linewidths=0)
    bar = fig.colorbar(sc, ax=ax, pad=0.02)
    bar.set_label('state')
    if max_state <= 20:
        bar.set_ticks(range(0, max_state + 1))
    return sc


def _limits(values, pad=0.05):
    lo, hi = float(np.min(values)), float(np.max(values))
    if lo >= -1.0 and hi <= 1.0:         # tanh units: show the whole square
        return -1.05, 1.05
    span = max(hi - lo, 1e-6)
    return lo - pad * span, hi + pad * span


def pair_scatter(points, colours, max_state, j, k, initial=None, title='', prefix='h',
                 figsize=(6, 5)):
    """Units j and k of every point, coloured by state (jet, 0..max_state)."""
    fig, ax = plt.subplots(figsize=figsize)
    _state_colours(ax, fig, (points[:, j], points[:, k]), colours, max_state)
    if initial is not None:
        ax.plot(initial[j], initial[k], 'kx', markersize=12, markeredgewidth=2.5,
                label='initial state')
        ax.legend(loc='best', fontsize=8)
    both = points[:, [j, k]] if initial is None else np.vstack([points[:, [j, k]],
                                                                initial[[j, k]]])
    ax.set_xlim(*_limits(both[:, 0]))
    ax.set_ylim(*_limits(both[:, 1]))
    ax.set_xlabel(f'{prefix}{j}')
    ax.set_ylabel(f'{prefix}{k}')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


def _scatter3d(ax, points, colours, max_state, initial, prefix, size=10):
    sc = ax.scatter(points[:, 0], points[:, 1], points[:, 2], c=colours, cmap=CMAP,
                    vmin=0, vmax=max_state, s=size, depthshade=False, linewidths=0)
    if initial is not None:
        ax.scatter([initial[0]], [initial[1]], [initial[2]], c='k', marker='x', s=80,
                   linewidths=2.5)
    ax.set_xlabel(f'{prefix}0')
    ax.set_ylabel(f'{prefix}1')
    ax.set_zlabel(f'{prefix}2')
    for axis, setter in zip(range(3), (ax.set_xlim, ax.set_ylim, ax.set_zlim)):
        setter(*_limits(points[:, axis]))
    # Matplotlib's default 9 ticks per axis run into each other in the small views.
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(5))
    return sc


def scatter_3d(points, colours, max_state, initial=None, title='', prefix='h',
               view=VIEWS_3D[0]):
    """Units 0, 1, 2 in 3-D from one viewpoint."""
    fig = plt.figure(figsize=(7, 6))
    ax = fig.add_subplot(projection='3d')
    sc = _scatter3d(ax, points, colours, max_state, initial, prefix)
    ax.view_init(*view)
    fig.colorbar(sc, ax=ax, shrink=0.7, pad=0.1).set_label('state')
    ax.set_title(title)
    return fig


def views_3d(points, colours, max_state, initial=None, title='', prefix='h'):
    """The same 3-D scatter in perspective and looking along each unit's axis."""
    fig = plt.figure(figsize=(11, 10))
    for i, (view, along) in enumerate(zip(VIEWS_3D, VIEW_ALONG)):
        ax = fig.add_subplot(2, 2, i + 1, projection='3d')
        _scatter3d(ax, points, colours, max_state, initial, prefix, size=6)
        ax.view_init(*view)
        if along is None:
            ax.set_title('perspective', fontsize=10)
            continue
        ax.set_proj_type('ortho')
        # The axis we look along is a point: hide its squashed ticks and label.
        axis = (ax.xaxis, ax.yaxis, ax.zaxis)[along]
        axis.set_ticks([])
        axis.set_label_text('')
        shown = [f'{prefix}{u}' for u in range(3) if u != along]
        ax.set_title(f'along {prefix}{along}: {shown[0]} vs {shown[1]}', fontsize=10)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def rotation_gif(path, points, colours, max_state, initial=None, title='', prefix='h',
                 frames=24, fps=8):
    """A turn around the vertical axis, saved as a small GIF (Pillow writer)."""
    from matplotlib.animation import FuncAnimation
    fig = plt.figure(figsize=(4, 4))
    ax = fig.add_subplot(projection='3d')
    _scatter3d(ax, points, colours, max_state, initial, prefix, size=5)
    ax.set_title(title, fontsize=9)

    def turn(i):
        ax.view_init(25, -60 + 360.0 * i / frames)
        return []

    anim = FuncAnimation(fig, turn, frames=frames, blit=False)
    save_animation(anim, path, fps=fps, dpi=64)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- state machines

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


def machine_edges(machine, minor=0.1):
    """[(from, to, label, dominant)] with symbols of the same (from, to) joined.

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
                key = (s, int(t), bool(dominant))
                edges.setdefault(key, []).append(sym)
    return [(s, t, ','.join(syms), dom) for (s, t, dom), syms in edges.items()]


def _arrow(ax, a, b, label, rad, radius=0.0, dashed=False, colour='k', fontsize=9,
           label_at=0.5, lw=1.3, head=14):
    """Curved arrow from circle a to circle b (radius in data units), labelled."""
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
    e = end - start
    # A quadratic Bezier's point at `label_at` (control point as matplotlib's arc3).
    ctrl = (start + end) / 2 + rad * np.array([e[1], -e[0]])
    s = label_at
    pos = (1 - s) ** 2 * start + 2 * s * (1 - s) * ctrl + s ** 2 * end
    ax.text(*pos, label, fontsize=fontsize, ha='center', va='center', zorder=5, color=colour,
            bbox=dict(boxstyle='round,pad=0.15', fc='white', ec='none', alpha=0.9))


def _self_loop(ax, centre, radius, label, fontsize=9):
    c = np.asarray(centre, float)
    a = c + radius * np.array([np.cos(np.radians(125)), np.sin(np.radians(125))])
    b = c + radius * np.array([np.cos(np.radians(55)), np.sin(np.radians(55))])
    ax.add_patch(FancyArrowPatch(a, b, connectionstyle='arc3,rad=-1.6', arrowstyle='-|>',
                                 mutation_scale=12, lw=1.2, color='k', shrinkA=0,
                                 shrinkB=0, zorder=3))
    ax.text(c[0], c[1] + 2.1 * radius, label, fontsize=fontsize, ha='center',
            va='bottom', zorder=5)


def fsm_scatter(points, labels, colours, max_state, machine, j, k, initial=None,
                title='', prefix='h'):
    """A pair scatter with a boundary around each state's points, the states named,
    arrows between their centres labelled (and coloured) by symbol, the start marked."""
    xy = points[:, [j, k]]
    # Trained nets revisit the same points thousands of times: draw each once.
    _, first = np.unique(np.round(np.column_stack([xy, colours]), 3), axis=0,
                         return_index=True)
    fig = pair_scatter(points[first], colours[first], max_state, j, k, initial, title,
                       prefix, figsize=(9, 7.5))
    ax = fig.axes[0]
    span = max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1e-3)
    pad = 0.02 * span
    centres = np.stack([xy[labels == s].mean(0) for s in range(machine.num_states)])
    for s in range(machine.num_states):
        hull = padded_hull(xy[labels == s], pad)
        ax.add_patch(Polygon(hull, closed=True, fill=False, ec='k', lw=0.8, zorder=2))
        top = hull[hull[:, 1].argmax()]
        ax.text(top[0], top[1] + 0.2 * pad, f's{s}', fontsize=8, ha='center',
                va='bottom', fontweight='bold' if s == machine.start else 'normal',
                zorder=6, bbox=dict(boxstyle='round,pad=0.1', fc='white', ec='none',
                                    alpha=0.6))
    for s, t, label, dominant in machine_edges(machine):
        if s == t:
            continue                    # self-loops are in the diagram and the table
        colour = SYMBOL_COLOURS[machine.symbols.index(label[0]) % len(SYMBOL_COLOURS)]
        _arrow(ax, centres[s], centres[t], label, rad=0.15, dashed=not dominant,
               colour=colour if dominant else 'grey', fontsize=7, lw=0.9, head=9)
    st = centres[machine.start]
    ax.annotate('start', xy=st, xytext=(st[0] - 0.1 * span, st[1] + 0.1 * span),
                fontsize=9, fontweight='bold', zorder=6,
                arrowprops=dict(arrowstyle='-|>', color='k', lw=1.5))
    return fig


def diagram_layout(machine, order_key=None, side_key=None):
    """Positions of the states, and the column titles.

    One column per symbol that leads into a state (a start state entered by nothing
    gets its own first column). Rows follow `order_key` rounded (the mean colour state
    of a state's points: the count of A's, or the B's still to come, so equal counts sit
    level across columns). States sharing a row of a column sit side by side, in
    sub-columns by `side_key` rounded when given (e.g. the n of the strings a state
    serves, so each n keeps its own lane) or else in number order. Without an
    order_key, states are stacked in number order.
    """
    k = machine.num_states
    into = machine.counts.sum(0)                    # (symbols, to-states)
    group = np.where(into.sum(0) > 0, into.argmax(0), -1)
    if order_key is None:
        row = np.zeros(k, dtype=int)
        for c in set(group.tolist()):
            members = np.nonzero(group == c)[0]
            row[members] = np.arange(len(members))
    else:
        row = np.rint(np.asarray(order_key, dtype=float)).astype(int)
    row -= row.min()
    side = None if side_key is None else np.rint(np.asarray(side_key, float)).astype(int)
    pos = np.zeros((k, 2))
    left = 0.0
    columns = sorted(set(group.tolist()))
    centres = []
    for c in columns:
        members = sorted((s for s in range(k) if group[s] == c), key=lambda s: (row[s], s))
        # One lane per side value met in a row whose states differ in it; the other
        # states join their value's lane or lane 0 (and step aside when it is taken).
        lanes = set()
        for r in {row[s] for s in members} if side is not None else ():
            values = {side[s] for s in members if row[s] == r}
            if len(values) > 1:
                lanes |= values
        lanes = sorted(lanes)
        taken = set()
        for s in members:
            lane = lanes.index(side[s]) if side is not None and side[s] in lanes else 0
            while (row[s], lane) in taken:      # two states in one lane and row
                lane += 1
            taken.add((row[s], lane))
            pos[s] = (left + lane * SUB_STEP, -row[s] * ROW_STEP)
        width = 1 + max(lane for _, lane in taken)
        centres.append(left + (width - 1) * SUB_STEP / 2)
        left += (width - 1) * SUB_STEP + COL_STEP
    titles = [machine.symbols[c] if c >= 0 else 'start' for c in columns]
    return pos, list(zip(centres, titles))


def _free_direction(pos, s, reach=1.2):
    """The compass direction from state s whose point at distance `reach` lies farthest
    from every other state (where the start arrow has room); left and up win ties."""
    best, room = np.array([-1.0, 0.0]), -1.0
    for ang in (180, 90, 135, 225, 270, 45, 0, 315):
        d = np.array([np.cos(np.radians(ang)), np.sin(np.radians(ang))])
        tail = pos[s] + reach * d
        others = np.delete(pos, s, axis=0)
        gap = np.min(np.hypot(*(others - tail).T)) if len(others) else np.inf
        if gap > room + 1e-6:
            best, room = d, gap
    return best


def state_diagram(machine, order_key=None, title='', names=None, members=None,
                  side_key=None):
    """The machine as circles and arrows: states with what they predict, arrows labelled
    by symbol (dashed = a minority, non-deterministic successor), a start arrow.
    `names` label the states (default s0, s1, ...); `members` adds a small line under a
    name (e.g. the states merged into it)."""
    from nnlab.recurrent.fsm import format_prediction
    names = names or [f's{s}' for s in range(machine.num_states)]
    pos, columns = diagram_layout(machine, order_key, side_key)
    radius = 0.5
    lo = pos.min(0) - np.array([1.9, 1.5])
    hi = pos.max(0) + np.array([1.6, 1.9])
    # Fixed inches per data unit (so text fits the circles), shrunk for big machines.
    scale = min(0.9, 22.0 / max(hi - lo))
    fig, ax = plt.subplots(figsize=tuple(np.maximum((hi - lo) * scale, 4.0)))
    font = max(5.0, 10 * scale)
    for s, t, label, dominant in machine_edges(machine):
        if s == t:
            _self_loop(ax, pos[s], radius, label, fontsize=font)
            continue
        d = pos[t] - pos[s]
        # Vertical jumps over other states bend out further; the rest bend a little so
        # arrows both ways between two states stay apart.
        jump = abs(d[1]) / ROW_STEP if abs(d[0]) < 1e-6 else 0
        rad = min(0.15 + 0.1 * (jump - 1), 0.5) if jump > 1.01 else 0.15
        _arrow(ax, pos[s], pos[t], label, rad=rad, radius=radius, dashed=not dominant,
               colour=SYMBOL_COLOURS[machine.symbols.index(label[0]) % len(SYMBOL_COLOURS)]
               if dominant else 'grey', fontsize=font)
    for s in range(machine.num_states):
        start = s == machine.start
        ax.add_patch(Circle(pos[s], radius, fc='#fff3c4' if start else '#dfeeff',
                            ec='k', lw=2.0 if start else 1.2, zorder=4))
        ax.text(pos[s, 0], pos[s, 1] + 0.2, names[s], ha='center', va='center',
                fontsize=1.05 * font, fontweight='bold', zorder=6)
        pred = format_prediction(machine.predict[s], machine.symbols, floor=0.1)
        pred = ' '.join(p.replace(' 0.', ' .').replace(' 1.00', '') for p in
                        pred.split('  ')[:2])
        ax.text(pos[s, 0], pos[s, 1] - 0.08, pred, ha='center', va='center',
                fontsize=0.7 * font, color='#333333', zorder=6)
        if members and members[s]:
            ax.text(pos[s, 0], pos[s, 1] - 0.3, members[s], ha='center', va='center',
                    fontsize=0.55 * font, color='#555555', zorder=6)
    d = _free_direction(pos, machine.start)
    tip = pos[machine.start] + radius * d
    ax.annotate('start', xy=tip, xytext=tip + 0.8 * d, fontsize=font, zorder=6,
                ha='center', va='center',
                arrowprops=dict(arrowstyle='-|>', color='k', lw=2, shrinkA=6, shrinkB=0))
    for x, name in columns:
        ax.text(x, lo[1] + 0.3, f'after {name}' if name != 'start' else 'start',
                ha='center', va='bottom', fontsize=font, color='#555555')
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect('equal')
    ax.axis('off')
    ax.set_title(title, fontsize=1.2 * font)
    return fig


# ---------------------------------------------------------------- counter analysis

def explain_figure(units, unit_names, quantities, table, phase, step, title='', seed=0):
    """One panel per quantity: the unit that tracks it best against it, over the
    positions the fit uses, coloured by phase (the symbol just read), with its R^2 and
    fitted line(s); an alternating unit gets a line for odd and one for even steps."""
    from nnlab.recurrent.explain import PHASES, best_unit
    cols = min(3, len(quantities))
    rows = int(np.ceil(len(quantities) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.3 * cols, 3.6 * rows), squeeze=False)
    rng = np.random.default_rng(seed)
    colours = plt.get_cmap('tab10')
    for ax, q in zip(axes.flat, quantities):
        fits = table[q.name]
        best = best_unit(fits)
        x, y = q.values[q.subset], units[q.subset, best]
        ph, odd = phase[q.subset], step[q.subset] % 2
        # Positions share a few integer values: spread them sideways to show how many.
        jitter = rng.uniform(-0.15, 0.15, len(x)) * max(np.ptp(x) / 8, 0.1)
        for p in np.unique(ph):
            sel = ph == p
            ax.scatter(x[sel] + jitter[sel], y[sel], s=5, alpha=0.35, linewidths=0,
                       color=colours(int(p)), label=f'after {PHASES[p]}')
        groups = [odd == 0, odd == 1] if fits[best].alternating else [np.ones_like(odd, bool)]
        for g, sel in enumerate(groups):
            if sel.sum() > 1 and np.ptp(x[sel]) > 0:
                slope, icept = np.polyfit(x[sel], y[sel], 1)
                xs = np.array([x[sel].min(), x[sel].max()])
                ax.plot(xs, icept + slope * xs, 'k-' if g == 0 else 'k--', lw=1.2,
                        label=('even steps' if g == 0 else 'odd steps')
                        if fits[best].alternating else 'straight line')
        note = ', alternating' if fits[best].alternating else ''
        ax.set_title(f'{unit_names[best]} vs {q.name}: R$^2$ = {fits[best].r2:.2f}{note}',
                     fontsize=10)
        ax.set_xlabel(f'{q.name} ({q.where})', fontsize=8)
        ax.set_ylabel(unit_names[best])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, markerscale=2, loc='best')
    for ax in list(axes.flat)[len(quantities):]:
        ax.axis('off')
    fig.suptitle(title)
    fig.tight_layout()
    return fig
