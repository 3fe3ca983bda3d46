"""One training example of a sequence language, and the printing helpers they share.

An example joins 5 strings. The network reads one-hot(seq[:-1]) and predicts seq[1:];
row t of `probs` is the true distribution of seq[t+1] given seq[:t+1], and `state[t]` the
language's state after reading seq[t] (used to colour plots).
"""
from dataclasses import dataclass

import numpy as np

STRINGS_PER_EXAMPLE = 5


@dataclass
class Example:
    seq: np.ndarray     # (T,) int64 symbol indices
    probs: np.ndarray   # (T-1, S) float32 true next-symbol probabilities
    state: np.ndarray   # (T-1,) int64 state after reading seq[t]
    symbols: str        # the alphabet, e.g. 'AB' or 'BTSXPVE'

    @property
    def text(self):
        return ''.join(self.symbols[i] for i in self.seq)

    @property
    def targets(self):
        return self.seq[1:]

    def inputs(self):
        """The network input as a float tensor (1, T-1, S)."""
        import torch
        x = np.zeros((len(self.seq) - 1, len(self.symbols)), dtype=np.float32)
        x[np.arange(len(x)), self.seq[:-1]] = 1.0
        return torch.from_numpy(x).unsqueeze(0)


class Language:
    """What every language shares; a subclass supplies `symbols` and `sample_arrays`."""

    def sample_many(self, rng, count):
        return split_examples(*self.sample_arrays(rng, count), self.symbols)

    def sample(self, rng):
        return self.sample_many(rng, 1)[0]

    def error(self, ex, probs):
        return mean_squared_error(ex.probs, probs)

    def print_activations(self, labels, hidden, probs, context=None, note=''):
        """The course's block: a header, then per position `<label> [hidden] [probs]`
        (`[context]` between them for an LSTM's cell states)."""
        hidden, probs = np.asarray(hidden), np.asarray(probs)
        units = 'hidden activations' if context is None else \
            'hidden activations, context (cell) units'
        print(f'{units} and output probabilities{note}:')
        for t, label in enumerate(labels):
            row = [label, fmt_vec(hidden[t])]
            if context is not None:
                row.append(fmt_vec(np.asarray(context)[t]))
            row.append(fmt_vec(probs[t], signed=False))
            print(' '.join(row))


def mean_squared_error(true_probs, out_probs):
    """The printed `error:`/`loss:`: the mean squared error over positions and symbols.

    The spec calls it "the mean squared error against the true probabilities", and the
    course's thresholds (anb2n 0.05, anbn 0.01, ...) were set on that plain mean.
    """
    diff = np.asarray(out_probs, dtype=np.float64) - np.asarray(true_probs, dtype=np.float64)
    return float((diff ** 2).mean())


def fmt_vec(values, signed=True):
    """`[ 0.12 -0.34]` for hidden units (room for a sign), `[0.80 0.20]` for probabilities."""
    width = 5 if signed else 4
    return '[' + ' '.join(f'{v:{width}.2f}' for v in np.asarray(values).ravel()) + ']'


def fmt_ints(values):
    return '[' + ' '.join(str(int(v)) for v in values) + ']'


def split_examples(seq_flat, probs_flat, state_flat, lengths, symbols):
    """Cut flat arrays of whole examples (lengths = symbols per example) into Examples.

    `probs_flat`/`state_flat` have one row per symbol; the last row of each example
    predicts past its end and is dropped.
    """
    ends = np.cumsum(lengths)
    return [Example(seq=seq_flat[start:end], probs=probs_flat[start:end - 1],
                    state=state_flat[start:end - 1], symbols=symbols)
            for start, end in zip(ends - lengths, ends)]
