"""Extract a finite state machine from a recurrent network's hidden states.

The course asks students to group the points of a hidden-unit scatter into states by hand
and draw arrows labelled by symbol between them. Here that is done on plain arrays:

- `cluster_states` groups hidden vectors into states (k-means; the number of states is the
  one with the best silhouette unless fixed); the state holding the initial vector is the
  start state, and states are numbered in the order the machine reaches them.
- `build_machine` counts transitions (from state, on symbol, to state) and averages what
  the network predicts in each state.
- `check_machine` runs the machine on its own over held-out examples (no network) and
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
MAX_STATES = 40
# Silhouette is estimated on a sample of this many points (it is quadratic in points).
SILHOUETTE_SAMPLE = 3000
# States closer than this (in units scaled to their range, i.e. 3% of the picture) are
# one state: the automatic choice never splits that finely.
RESOLUTION = 0.03


@dataclass
class Clustering:
    labels: list        # per path, (len(path),) int state of every row
    centers: np.ndarray  # (k, D) mean vector of each state
    start: int          # state of the initial vector (0 after renumbering)
    num_states: int
    how: str            # how k was chosen, for the printout
    scores: dict        # k -> silhouette (empty when k was fixed)


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

    def next_state(self, state, symbol):
        """The most frequent successor, or None if never seen."""
        row = self.counts[state, symbol]
        return int(row.argmax()) if row.sum() > 0 else None

    def nondeterministic(self):
        """(from, symbol) pairs seen going to more than one state."""
        return [(s, a) for s in range(self.num_states) for a in range(len(self.symbols))
                if np.count_nonzero(self.counts[s, a]) > 1]


# ---------------------------------------------------------------- clustering

def _sample(points, seed, size=SILHOUETTE_SAMPLE):
    rng = np.random.default_rng(seed)
    if len(points) <= size:
        return points
    return points[np.sort(rng.choice(len(points), size=size, replace=False))]


def _nearest(points, centers):
    d = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    return d.argmin(1)


def _cut(sample, tree, k):
    """Centres of the k clusters of a Ward tree cut (fewer if the tree has ties)."""
    from scipy.cluster.hierarchy import fcluster
    labels = fcluster(tree, k, criterion='maxclust')
    return np.stack([sample[labels == c].mean(0) for c in np.unique(labels)])


def _scaled(points):
    """Points with each unit scaled by its range (not below a tenth of the widest), so
    hidden units in (-1, 1) and LSTM cell units of any size weigh alike."""
    span = np.ptp(points, axis=0)
    span = np.maximum(span, 0.1 * span.max()) if span.max() > 0 else np.ones_like(span)
    return (points - points.min(0)) / span


def _closest_pair(centers):
    d = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1))
    d[np.diag_indices(len(centers))] = np.inf
    return d.min()


def choose_num_states(points, max_states=MAX_STATES, seed=0):
    """The number of states with the best silhouette, and the centres of that clustering.

    One Ward tree on a sample of the (scaled) points gives every candidate k at once; each
    cut is scored by the silhouette of the sample (distances computed once). Cuts that
    put two centres closer than RESOLUTION are not considered: states a picture cannot
    tell apart are one state. Returns (k, {k: silhouette}, centres).
    """
    from scipy.cluster.hierarchy import linkage
    from sklearn.metrics import pairwise_distances, silhouette_score
    sample = _sample(points, seed)
    tree = linkage(sample, 'ward')
    dist = pairwise_distances(sample)
    scores, best = {}, (1, -2.0, sample.mean(0, keepdims=True))
    for k in range(2, min(max_states, len(sample) - 1) + 1):
        centers = _cut(sample, tree, k)
        if _closest_pair(centers) < RESOLUTION:
            break
        labels = _nearest(sample, centers)
        found = len(np.unique(labels))
        if found < 2 or found in scores:
            continue
        scores[found] = float(silhouette_score(dist, labels, metric='precomputed'))
        # Prefer fewer states on (near) ties: a split of a tight cluster adds nothing.
        if scores[found] > best[1] + 1e-3:
            best = (found, scores[found], centers)
    return best[0], scores, best[2]


def _polish(points, centers, seed):
    """One k-means run started from the given centres, on all points."""
    from sklearn.cluster import KMeans
    if len(centers) < 2:
        return np.zeros(len(points), dtype=int)
    km = KMeans(n_clusters=len(centers), init=centers, n_init=1, random_state=seed)
    return km.fit_predict(points)


def cluster_states(paths, seqs, num_states=None, max_states=MAX_STATES, seed=0):
    """Group every row of every path into states; see the module docstring."""
    raw = np.concatenate(paths).astype(np.float64)
    points = _scaled(raw)
    distinct = len(np.unique(np.round(points, 4), axis=0))
    if num_states is None:
        k, scores, centers = choose_num_states(points, max_states, seed)
        how = (f"best silhouette {scores[k]:.2f} over 2..{max(scores)}" if scores
               else "all points coincide")
    else:
        if num_states > distinct:
            from common import UserError
            raise UserError(f"--states {num_states} is more than the {distinct} "
                            f"distinct hidden vectors seen; choose a smaller number")
        from scipy.cluster.hierarchy import linkage
        sample = _sample(points, seed)
        centers = (_cut(sample, linkage(sample, 'ward'), num_states) if num_states > 1
                   else points.mean(0, keepdims=True))
        scores, how = {}, "fixed by --states"
    labels = _polish(points, centers, seed)
    k = len(np.unique(labels))
    labels = np.unique(labels, return_inverse=True)[1].reshape(-1)   # ids 0..k-1
    per_path = np.split(labels, np.cumsum([len(p) for p in paths])[:-1])
    order = _reach_order(per_path, seqs, k)
    rename = np.empty(k, dtype=int)
    rename[order] = np.arange(k)
    labels = rename[labels]
    per_path = [rename[lab] for lab in per_path]
    centers = np.stack([raw[labels == s].mean(0) for s in range(k)])
    start = _majority([lab[0] for lab in per_path])
    return Clustering(per_path, centers, start, k, how, scores)


def _majority(values):
    values, counts = np.unique(np.asarray(values), return_counts=True)
    return int(values[counts.argmax()])


def _reach_order(labels, seqs, k):
    """Old state ids in breadth-first order from the start, following the most frequent
    transition of each symbol in symbol order, so s0 is the start, s1 what the first
    symbol leads to, and so on. States never reached go last, largest first."""
    num_symbols = int(max(s.max() for s in seqs)) + 1
    counts = np.zeros((k, num_symbols, k), dtype=np.int64)
    for lab, seq in zip(labels, seqs):
        np.add.at(counts, (lab[:-1], seq[:len(lab) - 1], lab[1:]), 1)
    start = _majority([lab[0] for lab in labels])
    order, queue = [start], [start]
    while queue:
        state = queue.pop(0)
        for a in range(num_symbols):
            row = counts[state, a]
            for nxt in np.argsort(-row, kind='stable'):
                if row[nxt] == 0:
                    break
                if nxt not in order:
                    order.append(int(nxt))
                    queue.append(int(nxt))
    sizes = np.bincount(np.concatenate(labels), minlength=k)
    rest = [s for s in np.argsort(-sizes, kind='stable') if s not in order]
    return np.array(order + [int(s) for s in rest])


# ---------------------------------------------------------------- the machine

def build_machine(clustering, seqs, net_probs, symbols):
    """Transition counts and mean predictions from clustered paths.

    net_probs[i][t] is the network's distribution over seq[t+1], made in the state of
    path row t+1.
    """
    k, num_symbols = clustering.num_states, len(symbols)
    counts = np.zeros((k, num_symbols, k), dtype=np.int64)
    sums = np.zeros((k, num_symbols))
    made = np.zeros(k)
    visits = np.zeros(k, dtype=np.int64)
    for lab, seq, probs in zip(clustering.labels, seqs, net_probs):
        np.add.at(counts, (lab[:-1], seq[:len(lab) - 1], lab[1:]), 1)
        np.add.at(sums, lab[1:], probs)
        np.add.at(made, lab[1:], 1)
        np.add.at(visits, lab, 1)
    predict = np.divide(sums, made[:, None], out=np.zeros_like(sums),
                        where=made[:, None] > 0)
    return Machine(symbols, counts, predict, visits, clustering.start)


def run_machine(machine, seq):
    """Walk the machine over one example on its own.

    Returns (predictions (T-1, S) made after each symbol, accepted): accepted when every
    symbol read has a transition and was allowed by the prediction before it.
    """
    state, accepted = machine.start, True
    preds = np.zeros((len(seq) - 1, machine.predict.shape[1]))
    for t in range(len(seq) - 1):
        if t > 0 and preds[t - 1, seq[t]] < ALLOWED_PROB:
            accepted = False
        nxt = machine.next_state(state, seq[t])
        if nxt is None:
            return preds, False          # stuck: leaves the rest unpredicted (zeros)
        state = nxt
        preds[t] = machine.predict[state]
    if preds[-1, seq[-1]] < ALLOWED_PROB:
        accepted = False
    return preds, accepted


@dataclass
class Check:
    examples: int
    accepted: int
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


def check_machine(machine, seqs, true_probs, net_probs):
    """Compare machine and network on held-out examples; see `Check`."""
    c = Check(len(seqs), 0, 0, 0, 0, 0, 0, 0)
    for seq, truth, probs in zip(seqs, true_probs, net_probs):
        preds, ok = run_machine(machine, seq)
        c.accepted += ok
        c.positions += len(seq) - 1
        n_all, n_det, det = _score(probs, seq, truth)
        c.net_all += n_all
        c.net_det += n_det
        c.deterministic += det
        m_all, m_det, _ = _score(preds, seq, truth)
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


def format_machine(machine, clustering):
    """The state table and transition table, one row per line (easy to paste or parse):

        state  points  predicts
        s0        200  A 0.80  B 0.20   (start)
        from  on  to   count
        s0    A   s1     200
        s2    B   s5     180   non-deterministic: s5 180, s6 20
    """
    sym = machine.symbols
    lines = [f"state machine: {machine.num_states} states ({clustering.how}), "
             f"start state s{machine.start}",
             "state  points  predicts"]
    for s in range(machine.num_states):
        note = "   (start)" if s == machine.start else ""
        lines.append(f"s{s:<4d} {machine.visits[s]:7d}  "
                     f"{format_prediction(machine.predict[s], sym)}{note}")
    lines.append("from  on  to   count")
    for s in range(machine.num_states):
        for a in range(len(sym)):
            row = machine.counts[s, a]
            if row.sum() == 0:
                continue
            nxt = int(row.argmax())
            line = f"s{s:<4d} {sym[a]:<3s} s{nxt:<4d}{row.sum():6d}"
            if np.count_nonzero(row) > 1:
                parts = [f"s{t} {row[t]}" for t in np.argsort(-row, kind='stable')
                         if row[t] > 0]
                line += "   non-deterministic: " + ", ".join(parts)
            lines.append(line)
    return "\n".join(lines)


def format_check(check):
    return "\n".join([
        f"check on {check.examples} held-out examples: the machine alone "
        f"(no network) accepts {check.accepted}/{check.examples} example strings",
        f"{'':10s}{'best guess, all positions':>30s}{'deterministic positions':>30s}",
        f"{'network':10s}{_pct(check.net_all, check.positions):>30s}"
        f"{_pct(check.net_det, check.deterministic):>30s}",
        f"{'machine':10s}{_pct(check.machine_all, check.positions):>30s}"
        f"{_pct(check.machine_det, check.deterministic):>30s}",
    ])
