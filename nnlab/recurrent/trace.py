"""Run a trained recurrent network over language examples and keep what it did.

The pictures and analyses of seq_plot.py all start from the same record: per example the
hidden states after each symbol, the LSTM's cell states, and the output probabilities.
Examples of different lengths run together in one padded batch; padding at the end
cannot change earlier steps of a recurrent network, so each example is cut back after.
"""
from dataclasses import dataclass

import numpy as np
import torch

from nnlab import student

# Why the cell states are missing where seq_models.py's forward has no `context` argument
# (the course's own file has none; docs/your-code.md).
NO_CONTEXT = ("seq_models.py's {cls}.forward takes no `context` argument, so its cell "
              "states cannot be read: give forward(x, context=False) returning (hidden, "
              "output, {{'cell': cell states}}) when context is true (see docs/your-code.md)")


@dataclass
class Trace:
    examples: list          # the language's Example objects
    hidden: list            # per example (T-1, H): state after reading seq[t]
    cell: list              # per example (T-1, H) LSTM cell states, or None
    probs: list             # per example (T-1, S) softmax outputs
    initial: np.ndarray     # (H,) state before the first symbol
    initial_cell: np.ndarray  # (H,) or None

    def points(self, cell=False):
        """All positions stacked: (N, H) hidden (or cell) states."""
        return np.concatenate(self.cell if cell else self.hidden)

    def colours(self):
        """The language's state of every position, (N,)."""
        return np.concatenate([ex.state for ex in self.examples])

    def paths(self, with_cell=False):
        """Per example the states including the initial one: (T, H) or (T, 2H)."""
        if not with_cell:
            return [np.vstack([self.initial[None, :], hid]) for hid in self.hidden]
        start = np.concatenate([self.initial, self.initial_cell])
        return [np.vstack([start[None, :], np.concatenate([hid, cell], axis=1)])
                for hid, cell in zip(self.hidden, self.cell)]


@torch.no_grad()
def trace_model(model, examples, batch_size=256):
    """The model's hidden states, cell states (LSTM, where its forward gives them:
    `context=True`) and output probabilities."""
    num_symbols = model.num_input
    with_context = student.accepts(model.forward, 'context')
    hidden, cells, probs = [], [], []
    for first in range(0, len(examples), batch_size):
        chunk = examples[first:first + batch_size]
        steps = max(len(ex.seq) - 1 for ex in chunk)
        x = torch.zeros(len(chunk), steps, num_symbols)
        for b, ex in enumerate(chunk):
            x[b, np.arange(len(ex.seq) - 1), torch.from_numpy(ex.seq[:-1])] = 1.0
        with student.blame('seq_models', None, 'tracing the hidden states'):
            hid, out, ctx = model(x, context=True) if with_context else (*model(x)[:2], {})
        prob = torch.softmax(out, dim=-1).numpy()
        hid = hid.numpy()
        cell = ctx['cell'].numpy() if 'cell' in ctx else None
        for b, ex in enumerate(chunk):
            t = len(ex.seq) - 1
            hidden.append(hid[b, :t].astype(np.float64))
            probs.append(prob[b, :t].astype(np.float64))
            if cell is not None:
                cells.append(cell[b, :t].astype(np.float64))
    initial = model.initial_hidden().detach().numpy().astype(np.float64)
    has_cell = model.kind == 'lstm' and len(cells) == len(examples)
    return Trace(list(examples), hidden, cells if has_cell else None, probs, initial,
                 np.zeros_like(initial) if has_cell else None)
