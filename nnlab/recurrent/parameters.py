"""Where each weight of a recurrent network sits in the flat vector the compiled kernels
train. numpy only (no numba, no torch at import): the checkpoint writer uses it too.
"""
import math

import numpy as np

from nnlab.recurrent.languages import MODELS

KINDS = MODELS
GATES = {'srn': 1, 'lstm': 4, 'gru': 3}     # blocks of `hid` columns in W, U, hid_bias


class Layout:
    """Where each parameter of one run sits in its flat vector.

    The order and shapes are those of `model.named_parameters()`: for the SRN H0 (hid,)
    first, then for every kind W (symbols, gates*hid), U (hid, gates*hid),
    hid_bias (gates*hid,), V (hid, symbols), out_bias (symbols,).
    """

    def __init__(self, kind, num_symbols, hid):
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}; expected one of {KINDS}")
        self.kind, self.num_symbols, self.hid = kind, int(num_symbols), int(hid)
        width = GATES[kind] * self.hid
        shapes = [('H0', (self.hid,))] if kind == 'srn' else []
        shapes += [('W', (self.num_symbols, width)), ('U', (self.hid, width)),
                   ('hid_bias', (width,)), ('V', (self.hid, self.num_symbols)),
                   ('out_bias', (self.num_symbols,))]
        self.offsets, start = {}, 0
        for name, shape in shapes:
            stop = start + math.prod(shape)
            self.offsets[name] = (start, stop, shape)
            start = stop
        self.size = start

    @classmethod
    def of(cls, kind, layout_or_sizes):
        """A Layout from a Layout (checked against `kind`) or (num_symbols, hid)."""
        if isinstance(layout_or_sizes, Layout):
            if layout_or_sizes.kind != kind:
                raise ValueError(f"layout is for {layout_or_sizes.kind!r}, not {kind!r}")
            return layout_or_sizes
        num_symbols, hid = layout_or_sizes
        return cls(kind, num_symbols, hid)

    def _check_model(self, model):
        names = [name for name, _ in model.named_parameters()]
        if names != list(self.offsets):
            raise ValueError(f"model parameters {names} do not match the {self.kind} "
                             f"layout {list(self.offsets)}")
        for name, param in model.named_parameters():
            if tuple(param.shape) != self.offsets[name][2]:
                raise ValueError(f"{name} has shape {tuple(param.shape)}, "
                                 f"expected {self.offsets[name][2]}")

    def from_model(self, model):
        """The model's parameters as one float64 vector (P,)."""
        self._check_model(model)
        return np.concatenate([param.detach().cpu().double().numpy().ravel()
                               for _, param in model.named_parameters()])

    def to_model(self, row, model):
        """Copy the vector `row` (P,) into the model's parameters (any dtype); the model."""
        self._check_model(model)
        row = np.asarray(row, dtype=np.float64)
        if row.shape != (self.size,):
            raise ValueError(f"weights have shape {row.shape}, expected ({self.size},)")
        import torch  # here, so that training alone does not load torch
        with torch.no_grad():
            for name, param in model.named_parameters():
                start, stop, shape = self.offsets[name]
                param.copy_(torch.from_numpy(row[start:stop].reshape(shape)))
        return model
