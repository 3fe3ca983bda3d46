"""The counting languages: n A's, then k1*n B's (then k2*n C's).

    anbn     A^n B^n            n in 1..length (default 8)
    anbncn   A^n B^n C^n        n in 1..length (default 8)
    anb2n    A^n B^2n           n in 1..length (default 4)
    anb2nc3n A^n B^2n C^3n      n in 1..length (default 4)

How n is drawn decides the true next-symbol probabilities, so we draw it the way the
probabilities say: after the k-th A another A follows with probability 0.8 and the first B
with 0.2, while k < length; after the length-th A the first B is certain. That makes
n = min(Geometric(0.2), length), and 0.8/0.2 are the exact conditional probabilities
after each of the first length-1 A's (whatever n turns out to be, the reader cannot know
it yet). Everything after the A's is determined: the B's (and C's) of the right count,
then the A that opens the next string. A perfect predictor therefore has error 0.

State (for colouring): after the k-th A the count k (1..length); after a B the number of
B's still to come, after a C the number of C's still to come (each counting down to 0).
So the symbol just read and its state determine the next symbol's distribution.
"""
import numpy as np

from nnlab.recurrent.example import STRINGS_PER_EXAMPLE, Language, fmt_ints

P_MORE_A = 0.8


class CountingLanguage(Language):
    """A^n B^(k1 n) [C^(k2 n)]; `multiples` = (k1,) or (k1, k2)."""

    def __init__(self, name, multiples, length, metric):
        self.name = name
        self.multiples = tuple(multiples)
        self.length = int(length)
        self.metric = metric            # printed label: 'error' (anbn family) or 'loss'
        self.symbols = 'ABC'[:1 + len(self.multiples)]
        self.num_symbols = len(self.symbols)
        self.max_state = max(self.length, max(self.multiples) * self.length - 1)
        self._build_templates()

    def _build_templates(self):
        """The symbols, probability rows and states of the string for each n, flattened."""
        seqs, probs, states = [], [], []
        for n in range(1, self.length + 1):
            seq = [0] * n
            for phase, k in enumerate(self.multiples, start=1):
                seq += [phase] * (k * n)
            rows = np.zeros((len(seq), self.num_symbols), dtype=np.float32)
            state = np.zeros(len(seq), dtype=np.int64)
            for k in range(1, n + 1):                 # after the k-th A
                if k < self.length:
                    rows[k - 1, 0], rows[k - 1, 1] = P_MORE_A, 1 - P_MORE_A
                else:
                    rows[k - 1, 1] = 1.0
                state[k - 1] = k
            for t in range(n, len(seq)):              # after a B or C: determined
                following = seq[t + 1] if t + 1 < len(seq) else 0   # next string's A
                rows[t, following] = 1.0
                state[t] = seq[t + 1:].count(seq[t])   # same letters still to come
            seqs.append(np.array(seq, dtype=np.int64))
            probs.append(rows)
            states.append(state)
        self._lengths = np.array([len(s) for s in seqs])
        self._starts = np.concatenate([[0], np.cumsum(self._lengths)[:-1]])
        self._seq = np.concatenate(seqs)
        self._probs = np.concatenate(probs)
        self._state = np.concatenate(states)

    def draw_n(self, rng, size):
        return np.minimum(rng.geometric(1 - P_MORE_A, size=size), self.length)

    def sample_arrays(self, rng, count):
        """`count` examples of 5 strings each as flat arrays (seq, probs, state) and the
        number of symbols of each example; a few numpy operations in all."""
        n = self.draw_n(rng, (count, STRINGS_PER_EXAMPLE)).ravel()
        string_len = self._lengths[n - 1]
        total = int(string_len.sum())
        # index into the template bank: start of the string's template + offset in it
        offset_in_string = np.arange(total) - np.repeat(np.cumsum(string_len) - string_len,
                                                        string_len)
        idx = np.repeat(self._starts[n - 1], string_len) + offset_in_string
        example_len = string_len.reshape(count, STRINGS_PER_EXAMPLE).sum(axis=1)
        return self._seq[idx], self._probs[idx], self._state[idx], example_len

    def print_outputs(self, epoch, ex, hidden, probs, context=None):
        """The course's format; `context` (T-1, H) adds the LSTM's cell states per row."""
        print('-----')
        if self.metric == 'error':                   # anbn family prints these two
            print('color =', fmt_ints(ex.state))
        print('symbol=', ex.text)
        if self.metric == 'error':
            print('label =', fmt_ints(ex.targets))
        self.print_activations([self.symbols[i] for i in ex.seq[:-1]], hidden, probs,
                               context)
        print(f'epoch: {epoch}')
        label = 'error:' if self.metric == 'error' else ' loss:'
        print(f'{label} {self.error(ex, probs):.4f}')
