"""Recurrent networks for the sequence languages: SRN, LSTM and GRU.

Parameter names and shapes follow the course (so its analysis of W, U, V, H0 applies):
inputs multiply on the left, `x W + h U + hid_bias`. Every model maps x (batch, T, in) to
(hidden sequence (batch, T, hid), output logits (batch, T, out)); with `context=True` it
also returns its internal per-step values. The step loop here is plain autograd code: it is
the reference that the compiled trainer (nnlab/recurrent/kernels.py) is tested against, and
what seq_plot.py runs.
"""
import math

import torch
import torch.nn as nn

SRN_INIT_STD = 0.3   # the SRN's default std of its normal initial weights (--init)


class _Recurrent(nn.Module):
    kind = None
    gates = 1                   # blocks of hid columns in W, U, hid_bias

    def __init__(self, num_input, num_hid, num_out, init=None, generator=None):
        super().__init__()
        self.num_input, self.num_hid, self.num_out = num_input, num_hid, num_out
        width = self.gates * num_hid
        self._extra_parameters()                      # the SRN's H0 comes first
        self.W = nn.Parameter(torch.empty(num_input, width))
        self.U = nn.Parameter(torch.empty(num_hid, width))
        self.hid_bias = nn.Parameter(torch.empty(width))
        self.V = nn.Parameter(torch.empty(num_hid, num_out))
        self.out_bias = nn.Parameter(torch.empty(num_out))
        self.init_weights(init, generator)

    def _extra_parameters(self):
        pass

    def init_weights(self, init=None, generator=None):
        with torch.no_grad():
            for p in self.parameters():
                if init is None and self.kind != 'srn':
                    bound = 1.0 / math.sqrt(self.num_hid)
                    p.uniform_(-bound, bound, generator=generator)
                else:
                    std = SRN_INIT_STD if init is None else init
                    p.normal_(0.0, std, generator=generator)

    def initial_hidden(self):
        """The state before the first input, (hid,)."""
        return torch.zeros(self.num_hid, dtype=self.W.dtype)

    def forward(self, x, context=False):
        x_part = x @ self.W + self.hid_bias           # input contribution, all steps at once
        hidden, ctx = self._run(x_part)
        output = hidden @ self.V + self.out_bias
        return (hidden, output, ctx) if context else (hidden, output)


class SRN_model(_Recurrent):
    """h_t = tanh(x_t W + h_{t-1} U + hid_bias), h_{-1} = tanh(H0) (learned)."""
    kind = 'srn'

    def _extra_parameters(self):
        self.H0 = nn.Parameter(torch.empty(self.num_hid))

    def initial_hidden(self):
        return torch.tanh(self.H0)

    def _run(self, x_part):
        h = self.initial_hidden().expand(x_part.shape[0], -1)
        steps = []
        for t in range(x_part.shape[1]):
            h = torch.tanh(x_part[:, t] + h @ self.U)
            steps.append(h)
        return torch.stack(steps, dim=1), {}


class LSTM_model(_Recurrent):
    """Gates i, f, g, o (in that column order) from x W + h U + hid_bias;
    c = f*c + i*g, h = o*tanh(c); h and c start at zero."""
    kind = 'lstm'
    gates = 4

    def _run(self, x_part):
        batch, steps, hid = x_part.shape[0], x_part.shape[1], self.num_hid
        h = x_part.new_zeros(batch, hid)
        c = x_part.new_zeros(batch, hid)
        record = {name: [] for name in ('cell', 'i', 'f', 'g', 'o')}
        hs = []
        for t in range(steps):
            z = x_part[:, t] + h @ self.U
            i = torch.sigmoid(z[:, :hid])
            f = torch.sigmoid(z[:, hid:2 * hid])
            g = torch.tanh(z[:, 2 * hid:3 * hid])
            o = torch.sigmoid(z[:, 3 * hid:])
            c = f * c + i * g
            h = o * torch.tanh(c)
            hs.append(h)
            for name, value in (('cell', c), ('i', i), ('f', f), ('g', g), ('o', o)):
                record[name].append(value)
        ctx = {name: torch.stack(values, dim=1) for name, values in record.items()}
        return torch.stack(hs, dim=1), ctx


class GRU_model(_Recurrent):
    """Gates r, z, n (column order): r, z = sigmoid(x W + h U + hid_bias) blocks,
    n = tanh(x W_n + hid_bias_n + r * (h U_n)), h = (1-z)*n + z*h; h starts at zero.
    (PyTorch's GRU with a single bias per gate.)"""
    kind = 'gru'
    gates = 3

    def _run(self, x_part):
        batch, steps, hid = x_part.shape[0], x_part.shape[1], self.num_hid
        h = x_part.new_zeros(batch, hid)
        record = {name: [] for name in ('r', 'z', 'n')}
        hs = []
        for t in range(steps):
            hu = h @ self.U
            r = torch.sigmoid(x_part[:, t, :hid] + hu[:, :hid])
            z = torch.sigmoid(x_part[:, t, hid:2 * hid] + hu[:, hid:2 * hid])
            n = torch.tanh(x_part[:, t, 2 * hid:] + r * hu[:, 2 * hid:])
            h = (1 - z) * n + z * h
            hs.append(h)
            for name, value in (('r', r), ('z', z), ('n', n)):
                record[name].append(value)
        ctx = {name: torch.stack(values, dim=1) for name, values in record.items()}
        return torch.stack(hs, dim=1), ctx


MODEL_CLASSES = {'srn': SRN_model, 'lstm': LSTM_model, 'gru': GRU_model}


def make_model(kind, num_input, num_hid, num_out, init=None, generator=None):
    return MODEL_CLASSES[kind](num_input, num_hid, num_out, init=init, generator=generator)
