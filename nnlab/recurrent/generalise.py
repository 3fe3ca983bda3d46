"""How far does a trained network count? Its predictions on the strings n = 1..N, beyond
the lengths it was trained on (seq_plot.py --generalise, seq_train.py's verdict, the sweep).

The rule, for each n: the string A^n B^(k1 n) [C^(k2 n)] followed by one A (the next
string's first symbol) is fed from the network's initial state, in float64 on the stored
weights. Every position after the first B has been read is determined in the unbounded
language (the remaining B's, the C's, the final A). The network is right on n if at every
determined position the strictly most probable symbol is the determined one. e1 is the
smallest n it is not right on (N + 1 if none); it is right for every n up to e1 - 1
(`largest_n_right`).

Positions are counted 1-based over the string's symbols, final A included: position t is
the prediction made after reading the first t - 1 symbols, of symbol t. For anb2n and
n = 2 (AABBBBA) the determined positions are 4..7.

One forward pass runs all n (and, in seq_train, all runs) together, one numpy step per
symbol of the longest string; no Python works per string. numpy only: seq_train loads no
torch for it.
"""
from dataclasses import dataclass

import numpy as np

from nnlab.formats.seq_analysis import Generalisation
from nnlab.recurrent.generalise_text import SYMBOLS
from nnlab.recurrent.parameters import Layout

DEFAULT_N = 100
# The longest string has (1 + k1 + k2) N + 1 symbols and the work grows as N^2.
MAX_N = 1000
FIRST_ERRORS = 5            # e1..e5, as Suzgun et al. (2019) report them


def string(multiples, n):
    """A^n B^(k1 n) [C^(k2 n)] A as symbol indices."""
    parts = [np.zeros(n, np.int64)]
    parts += [np.full(k * n, phase, np.int64) for phase, k in enumerate(multiples, start=1)]
    return np.concatenate(parts + [np.zeros(1, np.int64)])


def determined(multiples, n):
    """(L,) bool over the string's positions (0-based symbol index): True where the symbol
    is fixed by what came before, i.e. from the symbol after the first B to the end."""
    length = (1 + sum(multiples)) * n + 1
    return np.arange(length) >= n + 1


def strings(multiples, count):
    """All strings n = 1..count padded to the longest: symbols (count, T+1) (padding: A),
    and the mask (count, T+1) of determined positions."""
    length = (1 + sum(multiples)) * count + 1
    t = np.arange(length)[None, :]
    n = np.arange(1, count + 1)[:, None]
    symbols = np.zeros((count, length), np.int64)
    end = n.copy()
    for phase, k in enumerate(multiples, start=1):
        start, end = end, end + k * n
        symbols[(t >= start) & (t < end)] = phase
    mask = (t >= n + 1) & (t <= end)          # `end` is the final A's index
    return symbols, mask


def _sigmoid(z):
    # tanh form: no overflow warning for large |z|, same value to a few ulp
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class RunWeights:
    """The parameters of R runs of one kind, as arrays with a leading run axis."""

    def __init__(self, kind, layout, theta):
        self.kind, self.hid = kind, layout.hid
        theta = np.asarray(theta, dtype=np.float64)
        if theta.ndim == 1:
            theta = theta[None]
        if theta.shape[1:] != (layout.size,):
            raise ValueError(f"weights have shape {theta.shape}, expected (runs, {layout.size})")
        self.runs = theta.shape[0]
        for name, (start, stop, shape) in layout.offsets.items():
            setattr(self, name, theta[:, start:stop].reshape(self.runs, *shape))

    def start(self, batch):
        """The initial state of every run and string: h (R, B, hid) and c (or None)."""
        shape = (self.runs, batch, self.hid)
        if self.kind == 'srn':
            h = np.broadcast_to(np.tanh(self.H0)[:, None, :], shape).copy()
        else:
            h = np.zeros(shape)
        return h, (np.zeros(shape) if self.kind == 'lstm' else None)

    def step(self, h, c, x):
        """Read symbols x (B,) in every run from states h, c (R, B, hid); new h, c."""
        hid = self.hid
        x_part = self.W[:, x] + self.hid_bias[:, None, :]      # (R, B, gates*hid)
        if self.kind == 'srn':
            return np.tanh(x_part + h @ self.U), None
        if self.kind == 'lstm':
            z = x_part + h @ self.U
            i, f = _sigmoid(z[..., :hid]), _sigmoid(z[..., hid:2 * hid])
            g, o = np.tanh(z[..., 2 * hid:3 * hid]), _sigmoid(z[..., 3 * hid:])
            c = f * c + i * g
            return o * np.tanh(c), c
        hu = h @ self.U
        r = _sigmoid(x_part[..., :hid] + hu[..., :hid])
        z = _sigmoid(x_part[..., hid:2 * hid] + hu[..., hid:2 * hid])
        n = np.tanh(x_part[..., 2 * hid:] + r * hu[..., 2 * hid:])
        return (1.0 - z) * n + z * h, None

    def probs(self, h):
        """Softmax outputs (R, B, S) of states h (R, B, hid)."""
        logits = h @ self.V + self.out_bias[:, None, :]
        logits -= logits.max(axis=-1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=-1, keepdims=True)


def run_strings(kind, layout, theta, seqs):
    """One run reading each symbol sequence of `seqs` (all but the last symbol): per
    sequence hidden (T-1, hid), probabilities (T-1, S) and cell states (or None); float64.
    For the pictures and the tests; `evaluate` is the fast path."""
    weights = RunWeights(kind, layout, theta)
    longest = max(len(s) for s in seqs)
    padded = np.zeros((len(seqs), longest), np.int64)
    for b, s in enumerate(seqs):
        padded[b, :len(s)] = s
    h, c = weights.start(len(seqs))
    hs, cs, ps = [], [], []
    for t in range(longest - 1):
        h, c = weights.step(h, c, padded[:, t])
        hs.append(h[0])
        ps.append(weights.probs(h)[0])
        cs.append(c[0] if c is not None else None)
    hidden, probs = np.stack(hs, axis=1), np.stack(ps, axis=1)      # (B, T-1, ...)
    cells = np.stack(cs, axis=1) if kind == 'lstm' else None
    return [(hidden[b, :len(s) - 1], probs[b, :len(s) - 1],
             None if cells is None else cells[b, :len(s) - 1]) for b, s in enumerate(seqs)]


@dataclass
class Outcome:
    """The rule's figures for R runs and n = 1..N: arrays with a leading run axis."""
    right: np.ndarray           # (R, N) bool
    first_wrong: np.ndarray     # (R, N) int: 1-based position, 0 where right
    p_first_wrong: np.ndarray   # (R, N): the right symbol's probability there (nan: right)
    weakest: np.ndarray         # (R, N): its smallest probability over determined positions
    weakest_at: np.ndarray      # (R, N) int: 1-based position of that

    @property
    def largest_n_right(self):
        """(R,): e1 - 1, the largest K with every n <= K right."""
        wrong = ~self.right
        return np.where(wrong.any(axis=1), wrong.argmax(axis=1), self.right.shape[1])


def evaluate(kind, layout, theta, multiples, count=DEFAULT_N):
    """The rule on n = 1..count for the runs `theta` (P,) or (R, P) of `kind`."""
    if not multiples:
        raise ValueError("generalisation is measured on the counting languages only")
    if not 1 <= count <= MAX_N:
        raise ValueError(f"n must run to 1..{MAX_N}, not {count}")
    layout = Layout.of(kind, layout)
    weights = RunWeights(kind, layout, theta)
    symbols, mask = strings(multiples, count)
    runs, steps = weights.runs, symbols.shape[1] - 1
    lengths = (1 + sum(multiples)) * np.arange(1, count + 1) + 1
    right = np.ones((runs, count), bool)
    first_wrong = np.zeros((runs, count), np.int64)
    p_first_wrong = np.full((runs, count), np.nan)
    weakest = np.full((runs, count), np.inf)
    weakest_at = np.zeros((runs, count), np.int64)
    h, c = weights.start(count)
    for t in range(steps):
        # Strings shorter than t + 2 symbols have ended; the rows are sorted by n, so
        # the live ones are a tail.
        live = int(np.searchsorted(lengths, t + 2))
        h[:, live:], c_new = weights.step(h[:, live:], None if c is None else c[:, live:],
                                          symbols[live:, t])
        if c is not None:
            c[:, live:] = c_new
        where = live + np.flatnonzero(mask[live:, t + 1])
        if not where.size:
            continue
        probs = weights.probs(h[:, where])                      # (R, w, S)
        target = symbols[where, t + 1]
        # weights that are not finite numbers (a diverged run) give no probability
        p_right = np.nan_to_num(probs[:, np.arange(where.size), target], nan=0.0)
        others = probs.copy()
        others[:, np.arange(where.size), target] = -1.0
        ok = p_right > others.max(axis=-1)
        newly = right[:, where] & ~ok
        rows, cols = np.nonzero(newly)
        first_wrong[rows, where[cols]] = t + 2
        p_first_wrong[rows, where[cols]] = p_right[rows, cols]
        right[:, where] &= ok
        weaker = p_right < weakest[:, where]
        rows, cols = np.nonzero(weaker)
        weakest[rows, where[cols]] = p_right[rows, cols]
        weakest_at[rows, where[cols]] = t + 2
    return Outcome(right, first_wrong, p_first_wrong, weakest, weakest_at)


def evaluate_probs(probs, multiples, count=DEFAULT_N):
    """evaluate()'s rule on predictions made elsewhere (the student's own model, see
    autograd.py): probs (R, count, T, S), run r's softmax outputs reading the strings of
    `strings(multiples, count)` but their last symbol."""
    symbols, mask = strings(multiples, count)
    target, mask = symbols[:, 1:], mask[:, 1:]                # row j predicts symbol j + 1
    p_right = np.nan_to_num(np.take_along_axis(probs, target[None, :, :, None], -1)[..., 0],
                            nan=0.0)
    others = probs.copy()
    np.put_along_axis(others, target[None, :, :, None], -1.0, -1)
    wrong = mask & ~(p_right > others.max(axis=-1))           # (R, count, T)
    right = ~wrong.any(axis=-1)
    first = wrong.argmax(axis=-1)
    runs, rows = np.indices(right.shape)
    first_wrong = np.where(right, 0, first + 2)
    p_first_wrong = np.where(right, np.nan, p_right[runs, rows, first])
    masked = np.where(mask, p_right, np.inf)
    weakest_at = masked.argmin(axis=-1)
    return Outcome(right, first_wrong, p_first_wrong, masked.min(axis=-1), weakest_at + 2)


def record(outcome, run, trained):
    """Run `run`'s figures as the typed record (nnlab/formats/seq_analysis.py)."""
    right = outcome.right[run]
    wrong = np.flatnonzero(~right) + 1
    return Generalisation(
        checked=int(right.size), trained=int(trained),
        largest_n_right=int(outcome.largest_n_right[run]),
        first_errors=[int(n) for n in wrong[:FIRST_ERRORS]],
        right=[bool(v) for v in right],
        first_wrong=[int(p) if p else None for p in outcome.first_wrong[run]],
        p_first_wrong=[None if np.isnan(p) else float(p) for p in outcome.p_first_wrong[run]],
        weakest=[float(p) for p in outcome.weakest[run]],
        weakest_at=[int(p) for p in outcome.weakest_at[run]])


def of_model(model, multiples, trained, count=DEFAULT_N):
    """evaluate() of a seq_models.py network (a loaded checkpoint), as the typed record."""
    layout = Layout(model.kind, model.num_input, model.num_hid)
    return record(evaluate(model.kind, layout, layout.from_model(model), multiples, count), 0,
                  trained)


def stored(theta):
    """Weights as a checkpoint stores them (float32), back in float64: what seq_train
    measures, so that its figure is the checkpoint's."""
    return np.asarray(theta, dtype=np.float32).astype(np.float64)


@dataclass
class Agreement:
    """How far two predictors (the network and its extracted machine) pick the same
    symbol at every determined position of the strings n = 1..checked."""
    checked: int
    largest_n_same: int         # every n up to this: the same top symbol everywhere
    first_n: int | None         # the first n where they differ, its position (1-based)
    position: int | None
    network: str | None         # and the symbol each picks there ('-': the machine has
    machine: str | None         # no transition for what it read)


def agreement(net_probs, machine_probs, multiples):
    """Agreement of per-n (T-1, S) prediction arrays, n = 1..len(net_probs); a machine
    row of zeros means it is stuck (it predicts nothing)."""
    count = len(net_probs)
    for n, (net, mine) in enumerate(zip(net_probs, machine_probs), start=1):
        rows = np.flatnonzero(determined(multiples, n)) - 1     # prediction rows
        net_top = net[rows].argmax(axis=1)
        made = mine[rows].max(axis=1) > 0
        differ = ~made | (mine[rows].argmax(axis=1) != net_top)
        if differ.any():
            i = int(differ.argmax())
            return Agreement(count, n - 1, n, int(rows[i]) + 2, SYMBOLS[net_top[i]],
                             SYMBOLS[mine[rows[i]].argmax()] if made[i] else '-')
    return Agreement(count, count, None, None, None, None)


def agreement_line(a, trained):
    """What --fsm prints of agreement()."""
    found = f"for every n up to {a.largest_n_same}" if a.largest_n_same else "for no n"
    if a.first_n is not None:
        found += (f"; they first differ on n = {a.first_n} at position {a.position} "
                  f"(network {a.network}, machine {a.machine})")
    return (f"beyond training: machine and network pick the same symbol at every "
            f"determined position {found} (checked n = 1..{a.checked}, trained on "
            f"n = 1..{trained})")
