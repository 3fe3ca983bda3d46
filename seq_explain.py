"""Which hidden or context unit carries which quantity that solves the task?

For the counting languages (A^n B^kn C^mn) a network must know, after each symbol, how
many A's it has seen, how many B's or C's are still to come, and in which phase it is.
`counting_quantities` computes these from an example's text; `r_squared` fits each unit
to each quantity with a straight line (R^2 = squared correlation); `carriers` names the
units that track each quantity well.
"""
import numpy as np

# A unit "carries" a quantity when a straight line explains this share of its variance.
CARRIER_R2 = 0.8
PHASES = 'ABC'


def counting_quantities(text):
    """Quantities after each symbol read (positions 0..len(text)-2) of a counting example.

    Returns (phase, {name: values}): phase 0/1/2 = the symbol just read is A/B/C.
    'B to come' counts up k*a during the A's (the B's owed if the A's stopped now), then
    down through the B's; 'C to come' likewise over the A's and B's and down through the
    C's. Each string's own run lengths give k, so every member of the family works.
    """
    phase = np.array([PHASES.index(c) for c in text])
    has_c = 'C' in text
    a_seen = np.zeros(len(text))
    b_left = np.zeros(len(text))
    c_left = np.zeros(len(text))
    t = 0
    while t < len(text):
        # one string: a run of A's, then B's, then (maybe) C's
        runs = []
        for sym in PHASES[:3 if has_c else 2]:
            end = t
            while end < len(text) and text[end] == sym:
                end += 1
            runs.append((t, end))
            t = end
        (a0, a1), (b0, b1) = runs[0], runs[1]
        n = max(a1 - a0, 1)
        kb = (b1 - b0) / n
        a_seen[a0:a1] = np.arange(1, a1 - a0 + 1)
        a_seen[a1:t] = a1 - a0
        b_left[a0:a1] = kb * a_seen[a0:a1]
        b_left[b0:b1] = (b1 - b0) - np.arange(1, b1 - b0 + 1)
        if has_c:
            c0, c1 = runs[2]
            kc = (c1 - c0) / n
            c_left[a0:a1] = kc * a_seen[a0:a1]
            c_left[b0:b1] = c1 - c0
            c_left[c0:c1] = (c1 - c0) - np.arange(1, c1 - c0 + 1)
        if t == a0:                      # not a counting string; avoid looping forever
            raise ValueError(f"not a counting-language example: {text!r}")
    quantities = {"A's seen": a_seen, "B's to come": b_left}
    if has_c:
        quantities["C's to come"] = c_left
    for p, sym in enumerate(PHASES[:3 if has_c else 2]):
        quantities[f"phase {sym}"] = (phase == p).astype(float)
    cut = len(text) - 1                  # the last symbol is never read
    return phase[:cut], {k: v[:cut] for k, v in quantities.items()}


def stack_quantities(texts):
    """counting_quantities of many examples, concatenated."""
    parts = [counting_quantities(t) for t in texts]
    phase = np.concatenate([p for p, _ in parts])
    names = list(parts[0][1])
    return phase, {k: np.concatenate([q[k] for _, q in parts]) for k in names}


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


def r2_table(units, quantities):
    """{quantity: (U,) R^2 of each unit}."""
    return {name: r_squared(units, values) for name, values in quantities.items()}


def carriers(table, unit_names, threshold=CARRIER_R2):
    """{quantity: [(unit, R^2)] with R^2 >= threshold, best first}."""
    out = {}
    for name, r2 in table.items():
        order = np.argsort(-r2, kind='stable')
        out[name] = [(unit_names[i], float(r2[i])) for i in order if r2[i] >= threshold]
    return out


def format_explain(table, unit_names, threshold=CARRIER_R2):
    names = list(table)
    width = max(11, *(len(n) + 2 for n in names))
    lines = ["R^2 of a straight-line fit of each unit to each quantity "
             "(1 = the unit is a linear function of it):",
             "unit " + "".join(f"{n:>{width}s}" for n in names)]
    for i, unit in enumerate(unit_names):
        lines.append(f"{unit:5s}" + "".join(f"{table[n][i]:{width}.2f}" for n in names))
    lines.append(f"units carrying each quantity (R^2 >= {threshold}):")
    found = carriers(table, unit_names, threshold)
    for name in names:
        best = int(np.argmax(table[name]))
        listed = ", ".join(f"{u} ({r:.2f})" for u, r in found[name])
        lines.append(f"  {name:12s} " + (listed or
                     f"none (best {unit_names[best]} {table[name][best]:.2f})"))
    return "\n".join(lines)
