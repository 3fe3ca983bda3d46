"""Where to put the states and how to bend the arrows of a drawn state machine.

Pure geometry on numpy arrays, so it can be tested without drawing:

- `countdown_layout` places the states of a counting language's machine on a grid whose
  rows are the symbols still to come in the string: every B and C step then goes one row
  up, each string length keeps a lane of its own, and the A states sit on the left at
  the row of the B they hand over to. Arrows between neighbours need not cross.
- `choose_bends` picks for each arrow a curvature (matplotlib's arc3 `rad`) that keeps it
  off the other states and off the arrows already placed, straight where it can be.
"""
import itertools

import numpy as np

# The countdown grid, in data units: one row per symbol still to come, lanes apart.
ROW_STEP, LANE_STEP = 1.3, 1.7
# Curvatures tried for an arrow, gentlest first.
BENDS = (0.0, 0.12, -0.12, 0.25, -0.25, 0.4, -0.4, 0.6, -0.6)


def bezier(a, b, rad, samples=24):
    """Points along matplotlib's arc3 curve from a to b (a quadratic Bezier whose control
    point sits `rad` times the chord's length off the chord's middle)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    ctrl = (a + b) / 2 + rad * np.array([d[1], -d[0]])
    t = np.linspace(0.0, 1.0, samples)[:, None]
    return (1 - t) ** 2 * a + 2 * t * (1 - t) * ctrl + t ** 2 * b


def _crossings(path, other):
    """How many segments of two polylines cross (proper crossings only)."""
    p, r = path[:-1], path[1:] - path[:-1]
    q, s = other[:-1], other[1:] - other[:-1]
    cross = r[:, None, 0] * s[None, :, 1] - r[:, None, 1] * s[None, :, 0]
    qp = q[None, :, :] - p[:, None, :]
    with np.errstate(divide='ignore', invalid='ignore'):
        t = (qp[..., 0] * s[None, :, 1] - qp[..., 1] * s[None, :, 0]) / cross
        u = (qp[..., 0] * r[:, None, 1] - qp[..., 1] * r[:, None, 0]) / cross
    inside = (np.abs(cross) > 1e-12) & (t > 0.02) & (t < 0.98) & (u > 0.02) & (u < 0.98)
    return int(inside.sum())


def _hits(path, obstacles, radius):
    """Sample points of the path that fall inside an obstacle circle."""
    if len(obstacles) == 0:
        return 0
    gaps = np.hypot(*(path[:, None, :] - obstacles[None, :, :]).transpose(2, 0, 1))
    return int((gaps < radius).sum())


def choose_bends(positions, edges, radius, bends=BENDS, bounds=None):
    """A curvature per edge [(from, to)] between states at `positions` (k, 2).

    Each edge in turn (shortest first) takes the bend with the lowest cost: 4 for every
    sample point inside another state (a circle of `radius`) or outside `bounds`
    (xmin, xmax, ymin, ymax), 1 for every crossing with an edge already placed, 4 per
    unit of curvature (so a crossing is not avoided by a wild swing). An edge whose
    reverse is also drawn never runs straight, so the two stay apart.
    """
    positions = np.asarray(positions, float)
    pairs = {(s, t) for s, t in edges}
    lengths = [np.hypot(*(positions[t] - positions[s])) for s, t in edges]
    chosen, placed = [0.0] * len(edges), []
    for i in np.argsort(lengths, kind='stable'):
        s, t = edges[i]
        others = np.delete(positions, [s, t], axis=0)
        best = None
        for rad in bends:
            if rad == 0.0 and (t, s) in pairs:
                continue
            path = bezier(positions[s], positions[t], rad)
            cost = (4 * (_hits(path[2:-2], others, radius) + _outside(path, bounds))
                    + sum(_crossings(path, p) for p in placed) + 4 * abs(rad))
            if best is None or cost < best[0] - 1e-9:
                best = (cost, rad, path)
        chosen[i] = best[1]
        placed.append(best[2])
    return chosen


def _outside(path, bounds):
    if bounds is None:
        return 0
    x0, x1, y0, y1 = bounds
    return int(((path[:, 0] < x0) | (path[:, 0] > x1) |
                (path[:, 1] < y0) | (path[:, 1] > y1)).sum())


def to_end_of_string(text):
    """Per path row (row 0 the initial state, row t after t symbols) the symbols still to
    come in the current string of a counting-language example; 0 at the initial state
    and after a string's last symbol (what precedes a string)."""
    starts = [i for i, c in enumerate(text) if c == 'A' and (i == 0 or text[i - 1] != 'A')]
    ends = starts[1:] + [len(text)]
    rows = np.zeros(len(text), dtype=int)
    for start, end in zip(starts, ends):
        t = np.arange(start + 1, min(end, len(text) - 1) + 1)   # rows after its symbols
        rows[t] = end - t
    return rows


def countdown_layout(machine, to_end, row_step=ROW_STEP, lane_step=LANE_STEP):
    """Grid positions (k, 2) of the states and the x of the column titles.

    `to_end[s]` is the typical number of symbols still to come in the string at state s.
    The states entered by the first symbol (A) count up: after two A's, 2 or 10 symbols
    may follow, so their row is that of the state their B leads to, in lanes left of the
    others. The others count down: each sits at row to_end, in the lane of the
    predecessor it continues (a new lane to the left when that place is taken or it
    starts a chain). Row 0, the end of a string, is at the top.
    """
    k = machine.num_states
    row = np.rint(np.asarray(to_end, float)).astype(int)
    into = machine.counts.sum(0)                       # (symbols, to-states)
    down = ~((into.sum(0) > 0) & (into.argmax(0) == 0))     # not entered by A
    table = machine.table()
    flow = machine.counts.sum(1)                       # (from, to) counts
    second = 1 if table.shape[1] > 1 else 0
    for s in np.nonzero(~down)[0]:                  # an A state: row of its B
        b = table[s, second]
        if b >= 0 and down[b]:
            row[s] = row[b]
    lane = np.zeros(k, dtype=int)
    taken, done = set(), set()

    def place(states, new_lanes):
        for s in states:
            preds = [p for p in np.argsort(-flow[:, s], kind='stable')
                     if flow[p, s] > 0 and p != s and p in done]
            for p in preds:
                if (lane[p], row[s]) not in taken and down[p] == down[s]:
                    lane[s] = lane[p]
                    break
            else:
                lane[s] = next(new_lanes)
            taken.add((lane[s], row[s]))
            done.add(s)

    # Countdown states from far to near the end: chains keep their lane.
    place(sorted(np.nonzero(down)[0], key=lambda s: (-row[s], s)), itertools.count(0, -1))
    leftmost = min((lane[s] for s in np.nonzero(down)[0]), default=1)
    # A states nearest the start first, in lanes left of the countdown lanes.
    place(sorted(np.nonzero(~down)[0], key=lambda s: (row[s], s)),
          itertools.count(leftmost - 1, -1))
    # Lanes are numbered leftward; shift so the leftmost is x = 0.
    x = (lane - lane.min()) * lane_step
    positions = np.stack([x, -row * row_step], axis=1).astype(float)
    return positions, [(x[states].mean(), title)
                       for states, title in ((~down, 'A count'), (down, 'symbols to come'))
                       if states.any()]
