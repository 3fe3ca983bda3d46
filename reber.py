"""The Reber grammar (symbols BTSXPVE) and the embedded Reber grammar.

Reber graph, nodes 0..6 (node 0 is the start; the E of one string leads back to it, so
the next string's B follows with certainty):

    0 -B-> 1    1 -T-> 2   1 -P-> 3    2 -S-> 2   2 -X-> 4    3 -T-> 3   3 -V-> 5
    4 -X-> 3    4 -S-> 6   5 -P-> 4    5 -V-> 6   6 -E-> 0

Embedded (nodes 0..18): B, then T or P, a whole Reber string, the same T or P again, E.
    0 -B-> 1, 1 -T-> 2 (upper branch), 1 -P-> 10 (lower branch);
    upper: 2..8 are the inner Reber nodes 0..6, inner E -> 9, 9 -T-> 18;
    lower: 10..16 are the inner Reber nodes 0..6, inner E -> 17, 17 -P-> 18;
    18 -E-> 0.
Where several symbols are legal, each is equally likely (0.5/0.5 everywhere here). The
state of a position is the node reached after reading its symbol.
"""
import numpy as np

from nnlab.recurrent.example import (
    STRINGS_PER_EXAMPLE,
    Language,
    fmt_ints,
    fmt_vec,
    mean_squared_error,
)

SYMBOLS = 'BTSXPVE'

REBER_EDGES = [(0, 'B', 1), (1, 'T', 2), (1, 'P', 3), (2, 'S', 2), (2, 'X', 4),
               (3, 'T', 3), (3, 'V', 5), (4, 'X', 3), (4, 'S', 6), (5, 'P', 4),
               (5, 'V', 6), (6, 'E', 0)]


def embedded_edges():
    """The embedded grammar's edges, built from two copies of the Reber graph."""
    edges = [(0, 'B', 1), (1, 'T', 2), (1, 'P', 10), (9, 'T', 18), (17, 'P', 18),
             (18, 'E', 0)]
    for first, after_inner_e in ((2, 9), (10, 17)):
        for src, sym, dst in REBER_EDGES:
            edges.append((first + src, sym, after_inner_e if sym == 'E' else first + dst))
    return edges


class ReberLanguage(Language):
    name = 'reber'
    metric = 'error'

    def __init__(self, embed=False):
        self.embed = bool(embed)
        self.symbols = SYMBOLS
        self.num_symbols = len(SYMBOLS)
        edges = embedded_edges() if self.embed else REBER_EDGES
        self.max_state = max(src for src, _, _ in edges)
        # next_node[node, symbol] = node after reading symbol there, -1 if illegal
        self.next_node = np.full((self.max_state + 1, self.num_symbols), -1, dtype=np.int64)
        for src, sym, dst in edges:
            self.next_node[src, SYMBOLS.index(sym)] = dst
        legal = self.next_node >= 0
        self.node_probs = (legal / legal.sum(axis=1, keepdims=True)).astype(np.float32)
        # embedded: the nodes after the inner E, where the closing T/P must be remembered
        self.final_states = np.array([9, 17]) if self.embed else np.array([], dtype=np.int64)

    def sample_arrays(self, rng, count):
        """Walk `count` examples (5 strings each) through the graph side by side; return
        flat arrays (seq, probs, state) and the number of symbols of each example."""
        node = np.zeros(count, dtype=np.int64)
        strings_done = np.zeros(count, dtype=np.int64)
        active = np.ones(count, dtype=bool)
        steps_sym, steps_node, steps_active = [], [], []
        legal_all = self.next_node >= 0
        while active.any():
            legal = legal_all[node]
            # choose uniformly the pick-th legal symbol of each row
            pick = (rng.random(count) * legal.sum(axis=1)).astype(np.int64)
            sym = (np.cumsum(legal, axis=1) <= pick[:, None]).sum(axis=1)
            after = self.next_node[node, sym]
            steps_sym.append(sym)
            steps_node.append(after)
            steps_active.append(active.copy())
            strings_done += active & (after == 0)
            node = np.where(active, after, node)
            active &= strings_done < STRINGS_PER_EXAMPLE
        mask = np.array(steps_active).T                      # (count, steps)
        seq = np.array(steps_sym).T[mask]
        state = np.array(steps_node).T[mask]
        return seq, self.node_probs[state], state, mask.sum(axis=1)

    def final_error(self, ex, probs):
        """Embedded only: the error of predicting the closing T/P (needs long memory)."""
        at = np.isin(ex.state, self.final_states)
        return mean_squared_error(ex.probs[at], np.asarray(probs)[at])

    def print_outputs(self, epoch, ex, hidden, probs, context=None):
        """The course's format; `context` (T-1, H) adds the LSTM's cell states per row."""
        print('state =', fmt_ints(ex.state))
        print('symbol=', ex.text)
        print('label =', fmt_ints(ex.targets))
        print('true probabilities:')
        print('  ' + ''.join(f' {s:>4}' for s in self.symbols))
        for t in range(len(ex.seq) - 1):
            print(self.symbols[ex.seq[t]], fmt_vec(ex.probs[t], signed=False))
        self.print_activations([f'{state:2d}' for state in ex.state], hidden, probs, context,
                               note=f' [{self.symbols}]')
        print(f'epoch: {epoch}')
        print(f'error: {self.error(ex, probs):.4f}')
        if self.embed:
            print(f'final: {self.final_error(ex, probs):.4f}')
