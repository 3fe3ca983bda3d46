"""Extract a finite state machine from a recurrent network's hidden states.

The course asks students to group the points of a hidden-unit scatter into states by hand
and draw arrows labelled by symbol between them. Here that is done on plain arrays:

- `cluster_states` groups hidden vectors into states: a Ward tree over a sample of the
  points proposes a clustering for every number of states k, k-means (scikit-learn)
  polishes it on all points, and the k kept is the one whose machine, run on its own,
  best reproduces the network's next-symbol choices (fewest states on a tie), unless
  k is fixed. The cluster holding the initial vector is c0; the others are numbered
  in the order the machine reaches them.
- `minimise` merges clusters that behave alike into the states of the minimal machine,
  s0, s1, ... again in reach order: the names the printout and the pictures share.
- `build_machine` counts transitions (from state, on symbol, to state) and averages what
  the network predicts in each state.
- `score_held_out` runs the machine on its own over held-out examples (no network) and
  counts the positions it predicts correctly, next to the network's figure.

A "path" is the network's states along one example: row 0 the initial state, row t+1 the
state after reading symbol seq[t]. So a path has len(seq) rows for an example whose
network outputs cover len(seq)-1 positions.
"""
from dataclasses import dataclass

import numpy as np

# A symbol the machine predicts with at least this probability counts as allowed; 0.1
# sits below the smallest true choice probability of our languages (0.2, Reber's 1/2).
ALLOWED_PROB = 0.1
# A position is deterministic when the true next symbol has (almost) probability 1.
DETERMINISTIC_PROB = 0.99
# Upper end of the automatic search for the number of states.
MAX_STATES = 80
# The Ward tree is built on a sample of this many points (it is quadratic in points).
TREE_SAMPLE = 3000
# States closer than this (in units scaled to their range, i.e. 3% of the picture) are
# one state: the automatic choice never splits that finely.
RESOLUTION = 0.03
# Agreement within this of the best counts as a tie (then fewer states win).
AGREEMENT_SLACK = 0.002


@dataclass
class Clustering:
    labels: list        # per path, (len(path),) int state of every row
    centers: np.ndarray  # (k, D) mean vector of each state
    start: int          # state of the initial vector (0 after renumbering)
    num_states: int
    how: str            # how k was chosen, for the printout
    scores: dict        # k -> agreement with the network (empty when k was fixed)
    scale: np.ndarray   # (D,) each unit's scale: a vector is in the cluster whose centre
    #                     is nearest in units of these (the explore page's rule)


@dataclass
class Machine:
    symbols: str
    counts: np.ndarray   # (k, S, k) transitions seen: from, on symbol, to
    predict: np.ndarray  # (k, S) mean network probabilities of the next symbol
    visits: np.ndarray   # (k,) number of points in each state
    start: int

    @property
    def num_states(self):
        return self.counts.shape[0]

    def table(self):
        """(k, S) most frequent successor of each state on each symbol, -1 if never seen."""
        return np.where(self.counts.sum(2) > 0, self.counts.argmax(2), -1)


# ---------------------------------------------------------------- the machine

def _machine(labels, start, seqs, net_probs, symbols, k):
    """Transition counts and mean predictions from per-path state labels.

    net_probs[i][t] is the network's distribution over seq[t+1], made in the state of
    path row t+1.
    """
    num_symbols = len(symbols)
    counts = np.zeros((k, num_symbols, k), dtype=np.int64)
    sums = np.zeros((k, num_symbols))
    made = np.zeros(k)
    visits = np.zeros(k, dtype=np.int64)
    for lab, seq, probs in zip(labels, seqs, net_probs):
        np.add.at(counts, (lab[:-1], seq[:len(lab) - 1], lab[1:]), 1)
        np.add.at(sums, lab[1:], probs)
        np.add.at(made, lab[1:], 1)
        np.add.at(visits, lab, 1)
    predict = np.divide(sums, made[:, None], out=np.zeros_like(sums),
                        where=made[:, None] > 0)
    return Machine(symbols, counts, predict, visits, start)


def build_machine(clustering, seqs, net_probs, symbols):
    return _machine(clustering.labels, clustering.start, seqs, net_probs, symbols,
                    clustering.num_states)


def run_machines(machine, seqs):
    """Walk the machine on its own over many examples at once.

    Returns (predictions, accepted): per example a (T-1, S) array of what the machine
    predicts after each symbol (zeros once it is stuck), and whether it accepts the
    example: every symbol read has a transition and was allowed (probability at least
    ALLOWED_PROB) by the prediction before it.
    """
    lengths = np.array([len(s) for s in seqs])
    steps = lengths.max()
    sym = np.full((len(seqs), steps), -1)
    for i, seq in enumerate(seqs):
        sym[i, :len(seq)] = seq
    table = machine.table()
    state = np.full(len(seqs), machine.start)
    alive = np.ones(len(seqs), dtype=bool)         # not stuck on a missing transition
    rejected = np.zeros(len(seqs), dtype=bool)     # read a symbol it did not allow
    preds = np.zeros((len(seqs), steps - 1, machine.predict.shape[1]))
    rows = np.arange(len(seqs))
    for t in range(steps - 1):
        nxt = table[state, np.maximum(sym[:, t], 0)]
        alive &= ~((t < lengths - 1) & (nxt < 0))
        here = alive & (t < lengths - 1)          # position t exists, walk goes on
        state = np.where(here, nxt, state)
        preds[here, t] = machine.predict[state[here]]
        allowed = preds[rows, t, np.maximum(sym[:, t + 1], 0)] >= ALLOWED_PROB
        rejected |= here & ~allowed
    return [preds[i, :n - 1] for i, n in enumerate(lengths)], alive & ~rejected


def agreement(machine, seqs, net_probs):
    """Share of positions where the machine alone picks the network's top symbol."""
    preds, _ = run_machines(machine, seqs)
    same = sum(int(((p.max(1) > 0) & (p.argmax(1) == q.argmax(1))).sum())
               for p, q in zip(preds, net_probs))
    return same / sum(len(q) for q in net_probs)


def minimise(machine):
    """Merge states that behave alike (Moore's partition refinement).

    Two states are equivalent when they predict the same most likely next symbol and,
    on every symbol, their most frequent successors are equivalent (or both missing).
    (The top symbol, not the set above ALLOWED_PROB: a network's 0.09 versus 0.11 is
    noise, not a different state.) Returns
    (the merged machine, groups): groups[i] lists the original states of merged state
    i, lowest first. Merged states are numbered in the order the merged machine
    reaches them (as `cluster_states` numbers clusters), so s0 is the start and the
    names run without gaps. Counts, visits and predictions (visit-weighted) are pooled.
    """
    table = machine.table()
    k = machine.num_states
    top = machine.predict.argmax(1)
    signature = [(top[s],) + tuple(table[s] >= 0) for s in range(k)]
    block = _renumber(signature)
    while True:
        refined = _renumber([(block[s],) + tuple(block[t] if t >= 0 else -1
                                                 for t in table[s]) for s in range(k)])
        if refined.max() == block.max():
            break
        block = refined
    m = int(block.max()) + 1
    pooled = np.zeros((m, len(machine.symbols), m), dtype=np.int64)
    for s in range(k):
        for t in range(k):
            pooled[block[s], :, block[t]] += machine.counts[s, :, t]
    # Renumber the blocks in reach order: merged names then read like cluster names.
    order = _bfs_order(pooled, int(block[machine.start]), np.bincount(
        block, weights=machine.visits, minlength=m))
    of = np.argsort(order)[block]           # argsort inverts the permutation
    groups = [[int(s) for s in np.nonzero(of == i)[0]] for i in range(m)]
    counts = pooled[np.ix_(order, np.arange(len(machine.symbols)), order)]
    visits = np.bincount(of, weights=machine.visits, minlength=m).astype(np.int64)
    weighted = np.zeros((m, len(machine.symbols)))
    np.add.at(weighted, of, machine.predict * machine.visits[:, None])
    predict = weighted / np.maximum(visits, 1)[:, None]
    return Machine(machine.symbols, counts, predict, visits, int(of[machine.start])), groups


def _renumber(keys):
    """Equal keys -> equal small ints, numbered in order of first appearance."""
    ids = {}
    return np.array([ids.setdefault(key, len(ids)) for key in keys])


# ---------------------------------------------------------------- clustering

def _sample(points, seed, size=TREE_SAMPLE):
    rng = np.random.default_rng(seed)
    if len(points) <= size:
        return points
    return points[np.sort(rng.choice(len(points), size=size, replace=False))]


def unit_scale(points):
    """Each unit's range (not below a tenth of the widest), so hidden units in (-1, 1)
    and LSTM cell units of any size weigh alike."""
    span = np.ptp(points, axis=0)
    return np.maximum(span, 0.1 * span.max()) if span.max() > 0 else np.ones_like(span)


def _cut(sample, tree, k):
    """Centres of the k clusters of a Ward tree cut (fewer if the tree has ties)."""
    from scipy.cluster.hierarchy import fcluster
    labels = fcluster(tree, k, criterion='maxclust')
    return np.stack([sample[labels == c].mean(0) for c in np.unique(labels)])


def _closest_pair(centers):
    d = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1))
    d[np.diag_indices(len(centers))] = np.inf
    return d.min()


def _polish(points, centers, seed):
    """One k-means run started from the given centres, on all points; ids 0..k-1."""
    from sklearn.cluster import KMeans
    if len(centers) < 2:
        return np.zeros(len(points), dtype=int)
    km = KMeans(n_clusters=len(centers), init=centers, n_init=1, random_state=seed)
    labels = km.fit_predict(points)
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def _split(labels, paths):
    return np.split(labels, np.cumsum([len(p) for p in paths])[:-1])


def _majority(values):
    values, counts = np.unique(np.asarray(values), return_counts=True)
    return int(values[counts.argmax()])


def cluster_states(paths, seqs, net_probs, num_states=None, max_states=MAX_STATES,
                   seed=0):
    """Group every row of every path into states; see the module docstring."""
    raw = np.concatenate(paths).astype(np.float64)
    scale = unit_scale(raw)
    points = (raw - raw.min(0)) / scale
    symbols = 'x' * net_probs[0].shape[1]       # names do not matter while choosing

    def machine_of(labels):
        """The labels per path, and their machine (it starts where most paths start)."""
        per_path = _split(labels, paths)
        start = _majority([lab[0] for lab in per_path])
        return per_path, _machine(per_path, start, seqs, net_probs, symbols,
                                  int(labels.max()) + 1)

    from scipy.cluster.hierarchy import linkage
    sample = _sample(points, seed)
    tree = linkage(sample, 'ward')
    if num_states is not None:
        distinct = len(np.unique(np.round(points, 4), axis=0))
        if num_states > distinct:
            from nnlab.cli import UserError
            raise UserError(f"--states {num_states} is more than the {distinct} "
                            f"distinct hidden vectors seen; choose a smaller number")
        centers = (_cut(sample, tree, num_states) if num_states > 1
                   else points.mean(0, keepdims=True))
        labels, scores, how = _polish(points, centers, seed), {}, "fixed by --states"
    else:
        scores, found = {}, {}
        for k in range(2, min(max_states, len(sample) - 1) + 1):
            centers = _cut(sample, tree, k)
            if _closest_pair(centers) < RESOLUTION:
                break
            labels = _polish(points, centers, seed)
            n = int(labels.max()) + 1
            if n in scores:
                continue
            scores[n], found[n] = agreement(machine_of(labels)[1], seqs, net_probs), labels
        if not scores:
            labels, how = np.zeros(len(points), dtype=int), "all points coincide"
        else:
            best = max(scores.values())
            k = min(n for n, s in scores.items() if s >= best - AGREEMENT_SLACK)
            labels = found[k]
            how = (f"the fewest states whose machine alone picks the network's top "
                   f"symbol most often: {100 * scores[k]:.1f}% of positions; tried "
                   f"{min(scores)}..{max(scores)}")
    per_path, machine = machine_of(labels)
    # Clusters renumbered in reach order (see _bfs_order), so the start cluster is c0.
    rename = np.argsort(_bfs_order(machine.counts, machine.start, machine.visits))
    labels = rename[labels]
    k = machine.num_states
    centers = np.stack([raw[labels == s].mean(0) for s in range(k)])
    return Clustering([rename[lab] for lab in per_path], centers, 0, k, how, scores, scale)


def _bfs_order(counts, start, sizes):
    """States breadth-first from `start` over counts (from, symbol, to): symbols in
    order, the most frequent successor first; unreached states last, largest first."""
    order, queue = [start], [start]
    while queue:
        state = queue.pop(0)
        for a in range(counts.shape[1]):
            row = counts[state, a]
            for nxt in np.argsort(-row, kind='stable'):
                if row[nxt] == 0:
                    break
                if nxt not in order:
                    order.append(int(nxt))
                    queue.append(int(nxt))
    rest = [s for s in np.argsort(-np.asarray(sizes), kind='stable') if s not in order]
    return np.array(order + [int(s) for s in rest])


# ---------------------------------------------------------------- held-out score

@dataclass
class HeldOutScore:
    examples: int
    accepted: int       # examples the machine alone accepts (see run_machines)
    net_accepted: int   # examples whose every next symbol the network allows alike
    positions: int
    deterministic: int
    net_all: int        # positions where the network's top symbol is a most likely one
    net_det: int        # deterministic positions where it is the actual symbol
    machine_all: int
    machine_det: int


def _score(preds, seq, true_probs):
    """(correct over all positions, correct over deterministic positions, #det)."""
    top = preds.argmax(1)
    best = true_probs.max(1)
    made = preds.max(1) > 0
    all_ok = made & (true_probs[np.arange(len(top)), top] >= best - 1e-6)
    det = best >= DETERMINISTIC_PROB
    det_ok = det & made & (top == seq[1:])
    return int(all_ok.sum()), int(det_ok.sum()), int(det.sum())


def score_held_out(machine, seqs, true_probs, net_probs):
    """Compare machine and network on held-out examples; see `HeldOutScore`."""
    preds, accepted = run_machines(machine, seqs)
    c = HeldOutScore(len(seqs), int(accepted.sum()), 0, 0, 0, 0, 0, 0, 0)
    for seq, truth, probs, mine in zip(seqs, true_probs, net_probs, preds):
        c.net_accepted += bool(np.all(probs[np.arange(len(seq) - 1), seq[1:]]
                                      >= ALLOWED_PROB))
        c.positions += len(seq) - 1
        n_all, n_det, det = _score(probs, seq, truth)
        c.net_all += n_all
        c.net_det += n_det
        c.deterministic += det
        m_all, m_det, _ = _score(mine, seq, truth)
        c.machine_all += m_all
        c.machine_det += m_det
    return c


# ---------------------------------------------------------------- printing

def _pct(num, den):
    return f"{num:5d}/{den:<5d} ({100.0 * num / max(den, 1):5.1f}%)"


def format_prediction(row, symbols, floor=0.05):
    picks = [(p, s) for p, s in zip(row, symbols) if p >= floor]
    if not picks:
        return "-"
    return "  ".join(f"{s} {p:.2f}" for p, s in sorted(picks, key=lambda x: (-x[0], x[1])))


def format_machine(machine, heading, names=None):
    """The state table and transition table, one row per line (easy to paste or parse):

        state  points  predicts
        s0        200  A 0.80  B 0.20   (start)
        from  on  to   count
        s0    A   s1     200
        s2    B   s5     180   non-deterministic: s5 180, s6 20
    """
    sym = machine.symbols
    names = names or state_names(machine.num_states)
    lines = heading.splitlines() + ["state  points  predicts"]
    for s in range(machine.num_states):
        note = "   (start)" if s == machine.start else ""
        lines.append(f"{names[s]:5s} {machine.visits[s]:7d}  "
                     f"{format_prediction(machine.predict[s], sym)}{note}")
    lines.append("from  on  to   count")
    for s in range(machine.num_states):
        for a in range(len(sym)):
            row = machine.counts[s, a]
            if row.sum() == 0:
                continue
            nxt = int(row.argmax())
            line = f"{names[s]:5s} {sym[a]:<3s} {names[nxt]:5s}{row.sum():6d}"
            if np.count_nonzero(row) > 1:
                parts = [f"{names[t]} {row[t]}" for t in np.argsort(-row, kind='stable')
                         if row[t] > 0]
                line += "   non-deterministic: " + ", ".join(parts)
            lines.append(line)
    return "\n".join(lines)


def state_lines(text, names):
    """{state: [the line numbers of `text` of its row and its moves]} in the last table
    format_machine printed into `text` (the explore page lights them)."""
    lines = text.splitlines()
    heads = [k for k, line in enumerate(lines) if line.startswith('state machine:')]
    found = {}
    for k in range(heads[-1] if heads else len(lines), len(lines)):
        if not lines[k].strip():
            break
        name = lines[k].split(' ', 1)[0]
        if name in names:
            found.setdefault(name, []).append(k)
    return found


def state_names(count, prefix='s'):
    """s0, s1, ...: the states of the machine that is printed and drawn (merged); the
    clusters before merging are c0, c1, ... so no name means two things."""
    return [f"{prefix}{i}" for i in range(count)]


def format_groups(groups):
    """One line per merged state, naming the clusters it holds: '  s3   = c3 c12'."""
    return "\n".join(f"  {f's{i}':5s}= " + " ".join(f"c{c}" for c in g)
                     for i, g in enumerate(groups))


def format_held_out(score):
    return "\n".join([
        f"on {score.examples} held-out examples: the machine alone (no network) "
        f"accepts {score.accepted}/{score.examples} example strings (every symbol "
        f"predicted with probability >= {ALLOWED_PROB}; the network itself: "
        f"{score.net_accepted}/{score.examples})",
        f"{'':10s}{'best guess, all positions':>30s}{'deterministic positions':>30s}",
        f"{'network':10s}{_pct(score.net_all, score.positions):>30s}"
        f"{_pct(score.net_det, score.deterministic):>30s}",
        f"{'machine':10s}{_pct(score.machine_all, score.positions):>30s}"
        f"{_pct(score.machine_det, score.deterministic):>30s}",
    ])
