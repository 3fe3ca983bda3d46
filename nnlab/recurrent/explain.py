"""Which hidden or context unit carries which quantity that solves the task?

For the counting languages (A^n B^kn C^mn) a network must know, after each symbol, how
many A's it has seen, how many B's or C's are still to come, the n it must remember
while it counts the B's down (for the C's), and in which phase it is.
`counting_quantities` computes these from an example's text; `fit_table` fits each unit
to each quantity with a straight line over the positions where that quantity matters
(R^2); `carriers` names the units that track each quantity well.

SRNs often count by oscillating: the unit jumps between two branches on alternate
symbols and the distance from a fixed point carries the count. One line through both
branches fits badly, so each fit is also tried with a separate line for odd and even
steps of the phase; when that fits much better the unit is marked as alternating.
"""
from dataclasses import dataclass

import numpy as np

# A unit "carries" a quantity when a straight line explains this share of its variance.
CARRIER_R2 = 0.8
# An alternating fit (separate lines for odd and even steps) is reported when it beats
# the single line by this much.
ALTERNATION_GAIN = 0.2
PHASES = 'ABC'


@dataclass
class Quantity:
    name: str
    values: np.ndarray    # (N,) the quantity at every position
    subset: np.ndarray    # (N,) bool: the positions the fit uses
    where: str            # those positions, in words


@dataclass
class Fit:
    r2: float             # R^2 of the reported fit
    alternating: bool     # True: separate lines for odd and even steps


def _runs(text, has_c):
    """Per position: which string's run it is in (a0, a1, b0, b1, c0, c1) bounds."""
    t, strings = 0, []
    while t < len(text):
        bounds = []
        for sym in PHASES[:3 if has_c else 2]:
            end = t
            while end < len(text) and text[end] == sym:
                end += 1
            bounds.append((t, end))
            t = end
        if bounds[0][0] == t:             # not a counting string; avoid looping forever
            raise ValueError(f"not a counting-language example: {text!r}")
        strings.append(bounds)
    return strings


def counting_quantities(text):
    """Quantities after each symbol read (positions 0..len(text)-2) of a counting example.

    Returns (phase, step, {name: values}): phase 0/1/2 = the symbol just read is A/B/C;
    step = how many symbols of that phase have been read, minus 1 (its parity tells odd
    and even steps apart). 'B to come' counts up k*a during the A's (the B's owed if the
    A's stopped now), then down through the B's; 'C to come' likewise, held during the
    B's, then down through the C's. Each string's own run lengths give k, so every
    member of the family works.
    """
    has_c = 'C' in text
    size = len(text)
    phase = np.array([PHASES.index(c) for c in text])
    step = np.zeros(size, dtype=int)
    a_seen, b_left, c_left = np.zeros(size), np.zeros(size), np.zeros(size)
    for bounds in _runs(text, has_c):
        (a0, a1), (b0, b1) = bounds[0], bounds[1]
        n = a1 - a0
        end = bounds[-1][1]
        for lo, hi in bounds:
            step[lo:hi] = np.arange(hi - lo)
        a_seen[a0:a1] = np.arange(1, n + 1)
        a_seen[a1:end] = n
        b_left[a0:a1] = (b1 - b0) / n * a_seen[a0:a1]
        b_left[b0:b1] = (b1 - b0) - np.arange(1, b1 - b0 + 1)
        if has_c:
            c0, c1 = bounds[2]
            c_left[a0:a1] = (c1 - c0) / n * a_seen[a0:a1]
            c_left[b0:b1] = c1 - c0
            c_left[c0:c1] = (c1 - c0) - np.arange(1, c1 - c0 + 1)
    values = {"A's seen": a_seen, "B's to come": b_left, 'n': a_seen}
    if has_c:
        values["C's to come"] = c_left
    cut = size - 1                        # the last symbol is never read
    return phase[:cut], step[:cut], {k: v[:cut] for k, v in values.items()}


def quantities_of(texts):
    """The quantities of many examples, concatenated, with the positions each is fitted
    over. Returns (phase, step, [Quantity])."""
    parts = [counting_quantities(t) for t in texts]
    phase = np.concatenate([p for p, _, _ in parts])
    step = np.concatenate([s for _, s, _ in parts])
    values = {k: np.concatenate([v[k] for _, _, v in parts]) for k in parts[0][2]}
    everywhere = np.ones(len(phase), dtype=bool)
    out = [Quantity("A's seen", values["A's seen"], phase == 0, 'after each A'),
           Quantity("B's to come", values["B's to come"], phase == 1, 'after each B')]
    if "C's to come" in values:
        # While it counts the B's down it must also keep n for the C's: as n itself,
        # or as the B's read so far (which reach 2n, say, by the first C).
        out.append(Quantity("B's read", step + 1.0, phase == 1,
                            "after each B: a count the C's can be measured against"))
        out.append(Quantity('n', values['n'], phase == 1,
                            "after each B: the n the C's will need"))
        out.append(Quantity("C's to come", values["C's to come"], phase == 2,
                            'after each C'))
    phases = int(phase.max()) + 1
    # With two phases "phase A" and "phase B" are one quantity; keep one.
    for p in range(1 if phases == 2 else phases):
        sym = PHASES[p]
        out.append(Quantity(f'phase {sym}', (phase == p).astype(float), everywhere,
                            f"1 after {'an' if sym == 'A' else 'a'} {sym}, else 0; "
                            f"all positions"))
    return phase, step, out


def r_squared(units, quantity):
    """R^2 of the best straight line unit ~ a + b*quantity, per unit column; 0 when either
    side is constant (a constant explains nothing)."""
    u = units - units.mean(0)
    q = quantity - quantity.mean()
    su = np.sqrt((u ** 2).sum(0))
    sq = np.sqrt((q ** 2).sum())
    with np.errstate(invalid='ignore', divide='ignore'):
        r = (u * q[:, None]).sum(0) / (su * sq)
    return np.nan_to_num(r ** 2)


def _r2_two_lines(units, quantity, group):
    """R^2 with a separate straight line for each of the two groups, per unit column;
    0 unless each group has 3+ distinct values (a line through 2 always fits)."""
    total = ((units - units.mean(0)) ** 2).sum(0)
    left = np.zeros(units.shape[1])
    for g in (0, 1):
        sel = group == g
        if len(np.unique(quantity[sel])) < 3:
            return np.zeros(units.shape[1])
        u, q = units[sel], quantity[sel]
        resid = u - u.mean(0)
        qc = q - q.mean()
        slope = (resid * qc[:, None]).sum(0) / (qc ** 2).sum()
        resid = resid - slope * qc[:, None]
        left += (resid ** 2).sum(0)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.nan_to_num(np.where(total > 0, 1 - left / total, 0.0))


def fit_table(units, quantities, step):
    """{quantity name: [Fit per unit]} over each quantity's own positions."""
    table = {}
    for q in quantities:
        u, x = units[q.subset], q.values[q.subset]
        line = r_squared(u, x)
        two = (_r2_two_lines(u, x, step[q.subset] % 2) if not q.name.startswith('phase')
               else line)
        table[q.name] = [Fit(float(t), True) if t >= one + ALTERNATION_GAIN
                         else Fit(float(one), False) for one, t in zip(line, two)]
    return table


def best_unit(fits):
    return int(np.argmax([f.r2 for f in fits]))


def carriers(table, unit_names, threshold=CARRIER_R2):
    """{quantity: [(unit, Fit)] with R^2 >= threshold, best first}."""
    out = {}
    for name, fits in table.items():
        order = np.argsort([-f.r2 for f in fits], kind='stable')
        out[name] = [(unit_names[i], fits[i]) for i in order if fits[i].r2 >= threshold]
    return out


def _cell(fit):
    return f"{fit.r2:.2f}" + ('~' if fit.alternating else ' ')


def format_explain(table, quantities, unit_names, threshold=CARRIER_R2):
    names = list(table)
    width = max(9, *(len(n) + 2 for n in names))
    lines = ["quantities, and the positions each is fitted over:"]
    lines += [f"  {q.name:12s} {q.where}" for q in quantities]
    lines += ["R^2 of a straight line unit = a + b * quantity ('~': separate lines for odd "
              "and even steps fit much better, the unit alternates):",
              "unit " + "".join(f"{n:>{width}s}" for n in names)]
    for i, unit in enumerate(unit_names):
        lines.append(f"{unit:5s}" + "".join(f"{_cell(table[n][i]):>{width}s}"
                                            for n in names))
    lines.append(f"units carrying each quantity (R^2 >= {threshold}):")
    found = carriers(table, unit_names, threshold)
    for name in names:
        listed = ", ".join(f"{u} ({f.r2:.2f}{', alternating' if f.alternating else ''})"
                           for u, f in found[name])
        if not listed:
            b = best_unit(table[name])
            listed = f"none (best {unit_names[b]} {table[name][b].r2:.2f})"
        lines.append(f"  {name:12s} {listed}")
    return "\n".join(lines)
