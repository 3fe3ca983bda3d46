"""Compiled (numba) training of the SRN, LSTM and GRU: float64, the maths of torch.

One training step reads one example (a sequence of symbol indices), predicts each next
symbol, and takes one optimiser step on the mean negative log-likelihood, i.e.

    output = model(one_hot(seq[:-1]))
    loss = F.nll_loss(F.log_softmax(output[0], -1), seq[1:])
    loss.backward(); optimiser.step()

with the models of seq_models.py, written out by hand: forward through time, backward
through time, then SGD or Adam exactly as torch.optim computes them. `train` runs K
independent runs at once, one thread per run, and a run's numbers never depend on the
others: run i of a K-run call is bit for bit the 1-run call with the same weights and
examples, which is what makes restarts reproducible one by one.

A run's parameters are one flat float64 vector, laid out as `model.named_parameters()`
(see Layout). Each model kind has its own compiled functions, so a run that uses only
the SRN never waits for the LSTM's and GRU's code to compile.
"""
import math
from collections import namedtuple

import numpy as np
from numba import njit
from numba.extending import overload

from nnlab.compiled import adam_step, call, call_per_run, kernel, sgd_step, sigmoid
from nnlab.recurrent.languages import SRN_INIT_STD
from nnlab.recurrent.parameters import Layout

OPTIMISERS = ('sgd', 'adam')
SGD, ADAM = 0, 1                            # how the kernels are told which optimiser
COMPILE_SECONDS = 10                        # what the "compiling" notice announces


def initial_weights(layout, init, seed):
    """Run `seed`'s initial weights (P,), drawn by numpy from the seed alone: the
    distributions of seq_models' init_weights (SRN: normal(0, init, default 0.3); LSTM and
    GRU: uniform +-1/sqrt(hid) unless `init` is given), so training loads no torch."""
    rng = np.random.default_rng([seed, 2])      # apart from the example streams [seed], [seed, 1]
    row = np.empty(layout.size)
    for start, stop, _ in layout.offsets.values():
        if init is None and layout.kind != 'srn':
            bound = 1.0 / math.sqrt(layout.hid)
            row[start:stop] = rng.uniform(-bound, bound, stop - start)
        else:
            row[start:stop] = rng.normal(0.0, SRN_INIT_STD if init is None else init,
                                         stop - start)
    return row


class OptimiserState:
    """The optimiser's memory for K runs, kept between `train` calls.

    `steps` (K,) counts the steps taken; `first` (K, P) is SGD's momentum buffer or
    Adam's exp_avg; `second` (K, P) is Adam's exp_avg_sq.
    """

    def __init__(self, runs, size):
        self.steps = np.zeros(runs, dtype=np.int64)
        self.first = np.zeros((runs, size))
        self.second = np.zeros((runs, size))

    def copy(self):
        other = OptimiserState(0, 0)
        other.steps, other.first, other.second = \
            self.steps.copy(), self.first.copy(), self.second.copy()
        return other


# --- shared pieces of the compiled code ------------------------------------------------
# They live in this file: numba's cache notices changes only in the cached function's own
# file (and, see compiled.py, in compiled.py).

@njit
def _split(vector, num_symbols, hid, gates, has_h0):
    """Views H0, W, U, hid_bias, V, out_bias of a parameter (or gradient) vector."""
    width = gates * hid
    at = hid if has_h0 else 0
    h0 = vector[0:at]
    w = vector[at:at + num_symbols * width].reshape(num_symbols, width)
    at += num_symbols * width
    u = vector[at:at + hid * width].reshape(hid, width)
    at += hid * width
    bias = vector[at:at + width]
    at += width
    v = vector[at:at + hid * num_symbols].reshape(hid, num_symbols)
    at += hid * num_symbols
    out_bias = vector[at:at + num_symbols]
    return h0, w, u, bias, v, out_bias


@njit
def _recurrent_input(h, u, k):
    """Column k of h U: what the previous state adds to pre-activation k."""
    total = 0.0
    for i in range(h.shape[0]):
        total += h[i] * u[i, k]
    return total


@njit
def _softmax_output(h, v, out_bias, target, probs):
    """Fill `probs` with softmax(h V + out_bias); return -log_softmax(...)[target]."""
    num_symbols = probs.shape[0]
    largest = -np.inf
    for s in range(num_symbols):
        logit = 0.0
        for j in range(h.shape[0]):
            logit += h[j] * v[j, s]
        probs[s] = logit + out_bias[s]
        largest = max(largest, probs[s])
    total = 0.0
    target_logit = probs[target]
    for s in range(num_symbols):
        probs[s] = math.exp(probs[s] - largest)
        total += probs[s]
    for s in range(num_symbols):
        probs[s] /= total
    return -(target_logit - largest - math.log(total))


@njit
def _output_backward(t, h, probs, target, scale, v, grad_v, grad_out_bias, dlogit, carry,
                     dh):
    """Backward through step t's output layer (its loss weighs `scale` = 1/steps):
    accumulates grad_v and grad_out_bias; dh = V dlogit + carry, where `carry` is the
    gradient h_t received from step t+1."""
    num_symbols = dlogit.shape[0]
    for s in range(num_symbols):
        dlogit[s] = probs[t, s] * scale
        if s == target:
            dlogit[s] -= scale
        grad_out_bias[s] += dlogit[s]
    for j in range(h.shape[0]):
        acc = 0.0
        for s in range(num_symbols):
            grad_v[j, s] += h[j] * dlogit[s]
            acc += v[j, s] * dlogit[s]
        dh[j] = acc + carry[j]


@njit
def _longest(starts):
    """The longest example (in symbols) of one run's example boundaries."""
    longest = 0
    for e in range(starts.shape[0] - 1):
        longest = max(longest, starts[e + 1] - starts[e])
    return longest


@njit
def _optimiser_step(optim, theta, grad, first, second, step, lr, mom, weight_decay):
    """One step of torch.optim.SGD or Adam on one run; `step` counts the steps taken
    before this one. Returns the new count."""
    step += 1
    if optim == SGD:
        sgd_step(theta, grad, first, lr, mom, weight_decay)
    else:
        adam_step(theta, grad, first, second, step, lr, weight_decay)
    return step


# --- SRN: h_t = tanh(x_t W + h_{t-1} U + hid_bias), h_{-1} = tanh(H0) --------------------
# Each kind has a forward pass (the loss; states kept in the scratch space) and a
# backward pass (the gradient, from those states); the check example after every 1000
# steps needs only the forward one, which compiles in a fraction of the time.

@njit
def _srn_buffers(num_symbols, hid, longest):
    """Scratch space for examples of up to `longest` symbols, made once per run."""
    hidden = np.empty((longest, hid))         # row 0: tanh(H0); row t+1: after input t
    probs = np.empty((longest - 1, num_symbols))
    cell = np.empty((0, hid))                 # the SRN has none
    dh = np.empty(hid)                        # gradient of the loss wrt h_t
    da = np.empty(hid)                        # ... wrt h_t's pre-activation
    carry = np.empty(hid)                     # ... wrt h_t through step t+1 only
    dlogit = np.empty(num_symbols)
    return hidden, probs, cell, dh, da, carry, dlogit


@njit
def _srn_forward(theta, num_symbols, hid, seq, buffers):
    """The example's loss; its states stay in `buffers` for the backward pass."""
    hidden, probs = buffers[:2]
    h0, w, u, bias, v, out_bias = _split(theta, num_symbols, hid, 1, True)
    steps = seq.shape[0] - 1
    for j in range(hid):
        hidden[0, j] = math.tanh(h0[j])
    loss = 0.0
    for t in range(steps):
        x = seq[t]
        for j in range(hid):
            hidden[t + 1, j] = math.tanh((w[x, j] + bias[j]) + _recurrent_input(hidden[t], u, j))
        loss += _softmax_output(hidden[t + 1], v, out_bias, seq[t + 1], probs[t])
    return loss / steps


@njit
def _srn_backward(theta, grad, num_symbols, hid, seq, buffers):
    """The gradient of the loss of the example just run forward, into `grad`."""
    hidden, probs, _, dh, da, carry, dlogit = buffers
    _, _, u, _, v, _ = _split(theta, num_symbols, hid, 1, True)
    grad[:] = 0.0
    g_h0, g_w, g_u, g_bias, g_v, g_out_bias = _split(grad, num_symbols, hid, 1, True)
    steps = seq.shape[0] - 1
    carry[:] = 0.0                            # the last state feeds no later step
    for t in range(steps - 1, -1, -1):
        _output_backward(t, hidden[t + 1], probs, seq[t + 1], 1.0 / steps, v, g_v,
                         g_out_bias, dlogit, carry, dh)
        x = seq[t]
        for j in range(hid):
            h = hidden[t + 1, j]
            da[j] = dh[j] * (1.0 - h * h)
            g_w[x, j] += da[j]
            g_bias[j] += da[j]
        for i in range(hid):
            back = 0.0
            for j in range(hid):
                g_u[i, j] += hidden[t, i] * da[j]
                back += u[i, j] * da[j]
            carry[i] = back
    for j in range(hid):                      # carry now reaches tanh(H0)
        g_h0[j] = carry[j] * (1.0 - hidden[0, j] * hidden[0, j])


# --- LSTM: gates i, f, g, o; c = f*c + i*g, h = o*tanh(c); h and c start at zero --------

@njit
def _lstm_buffers(num_symbols, hid, longest):
    hidden = np.empty((longest, hid))         # row 0: zeros; row t+1: after input t
    probs = np.empty((longest - 1, num_symbols))
    cell = np.empty((longest, hid))           # rows as in hidden
    gates = np.empty((longest - 1, 4 * hid))  # each step's activated i, f, g, o
    cell_tanh = np.empty((longest - 1, hid))
    dh = np.empty(hid)
    dc = np.empty(hid)                        # gradient wrt c_t through step t+1 only
    dz = np.empty(4 * hid)                    # ... wrt the gates' pre-activations
    carry = np.empty(hid)
    dlogit = np.empty(num_symbols)
    return hidden, probs, cell, gates, cell_tanh, dh, dc, dz, carry, dlogit


@njit
def _lstm_forward(theta, num_symbols, hid, seq, buffers):
    hidden, probs, cell, gates, cell_tanh = buffers[:5]
    _, w, u, bias, v, out_bias = _split(theta, num_symbols, hid, 4, False)
    steps = seq.shape[0] - 1
    hidden[0, :] = 0.0
    cell[0, :] = 0.0
    loss = 0.0
    for t in range(steps):
        for k in range(4 * hid):
            z = (w[seq[t], k] + bias[k]) + _recurrent_input(hidden[t], u, k)
            is_g_gate = 2 * hid <= k < 3 * hid
            gates[t, k] = math.tanh(z) if is_g_gate else sigmoid(z)
        for j in range(hid):
            i_gate, f_gate = gates[t, j], gates[t, hid + j]
            g_gate, o_gate = gates[t, 2 * hid + j], gates[t, 3 * hid + j]
            cell[t + 1, j] = f_gate * cell[t, j] + i_gate * g_gate
            cell_tanh[t, j] = math.tanh(cell[t + 1, j])
            hidden[t + 1, j] = o_gate * cell_tanh[t, j]
        loss += _softmax_output(hidden[t + 1], v, out_bias, seq[t + 1], probs[t])
    return loss / steps


@njit
def _lstm_backward(theta, grad, num_symbols, hid, seq, buffers):
    hidden, probs, cell, gates, cell_tanh, dh, dc, dz, carry, dlogit = buffers
    _, _, u, _, v, _ = _split(theta, num_symbols, hid, 4, False)
    grad[:] = 0.0
    _, g_w, g_u, g_bias, g_v, g_out_bias = _split(grad, num_symbols, hid, 4, False)
    steps = seq.shape[0] - 1
    carry[:] = 0.0
    dc[:] = 0.0
    for t in range(steps - 1, -1, -1):
        _output_backward(t, hidden[t + 1], probs, seq[t + 1], 1.0 / steps, v, g_v,
                         g_out_bias, dlogit, carry, dh)
        for j in range(hid):
            i_gate, f_gate = gates[t, j], gates[t, hid + j]
            g_gate, o_gate = gates[t, 2 * hid + j], gates[t, 3 * hid + j]
            tanh_c = cell_tanh[t, j]
            d_cell = dc[j] + dh[j] * o_gate * (1.0 - tanh_c * tanh_c)
            dz[j] = d_cell * g_gate * i_gate * (1.0 - i_gate)
            dz[hid + j] = d_cell * cell[t, j] * f_gate * (1.0 - f_gate)
            dz[2 * hid + j] = d_cell * i_gate * (1.0 - g_gate * g_gate)
            dz[3 * hid + j] = dh[j] * tanh_c * o_gate * (1.0 - o_gate)
            dc[j] = d_cell * f_gate
        x = seq[t]
        for k in range(4 * hid):
            g_w[x, k] += dz[k]
            g_bias[k] += dz[k]
        for i in range(hid):
            back = 0.0
            for k in range(4 * hid):
                g_u[i, k] += hidden[t, i] * dz[k]
                back += u[i, k] * dz[k]
            carry[i] = back


# --- GRU: r, z = sigmoid(x W + h U + b) blocks, n = tanh(x W_n + b_n + r*(h U_n)),
#          h = (1-z)*n + z*h; h starts at zero ---------------------------------------------

@njit
def _gru_buffers(num_symbols, hid, longest):
    hidden = np.empty((longest, hid))         # row 0: zeros; row t+1: after input t
    probs = np.empty((longest - 1, num_symbols))
    cell = np.empty((0, hid))                 # the GRU has none
    gates = np.empty((longest - 1, 3 * hid))  # each step's activated r, z, n
    hidden_n = np.empty((longest - 1, hid))   # each step's h U_n, which r multiplies
    recurrent = np.empty(3 * hid)             # h U of the current step
    dh = np.empty(hid)
    d_input = np.empty(3 * hid)               # gradient wrt x W + b, per gate
    d_recurrent = np.empty(3 * hid)           # ... wrt h U
    carry = np.empty(hid)
    dlogit = np.empty(num_symbols)
    return (hidden, probs, cell, gates, hidden_n, recurrent, dh, d_input, d_recurrent,
            carry, dlogit)


@njit
def _gru_forward(theta, num_symbols, hid, seq, buffers):
    hidden, probs, _, gates, hidden_n, recurrent = buffers[:6]
    _, w, u, bias, v, out_bias = _split(theta, num_symbols, hid, 3, False)
    steps = seq.shape[0] - 1
    hidden[0, :] = 0.0
    loss = 0.0
    for t in range(steps):
        x = seq[t]
        for k in range(3 * hid):
            recurrent[k] = _recurrent_input(hidden[t], u, k)
        for j in range(hid):
            r_gate = sigmoid((w[x, j] + bias[j]) + recurrent[j])
            z_gate = sigmoid((w[x, hid + j] + bias[hid + j]) + recurrent[hid + j])
            n_gate = math.tanh((w[x, 2 * hid + j] + bias[2 * hid + j])
                               + r_gate * recurrent[2 * hid + j])
            gates[t, j], gates[t, hid + j], gates[t, 2 * hid + j] = r_gate, z_gate, n_gate
            hidden_n[t, j] = recurrent[2 * hid + j]
            hidden[t + 1, j] = (1.0 - z_gate) * n_gate + z_gate * hidden[t, j]
        loss += _softmax_output(hidden[t + 1], v, out_bias, seq[t + 1], probs[t])
    return loss / steps


@njit
def _gru_backward(theta, grad, num_symbols, hid, seq, buffers):
    (hidden, probs, _, gates, hidden_n, _, dh, d_input, d_recurrent, carry,
     dlogit) = buffers
    _, _, u, _, v, _ = _split(theta, num_symbols, hid, 3, False)
    grad[:] = 0.0
    _, g_w, g_u, g_bias, g_v, g_out_bias = _split(grad, num_symbols, hid, 3, False)
    steps = seq.shape[0] - 1
    carry[:] = 0.0
    for t in range(steps - 1, -1, -1):
        _output_backward(t, hidden[t + 1], probs, seq[t + 1], 1.0 / steps, v, g_v,
                         g_out_bias, dlogit, carry, dh)
        for j in range(hid):
            r_gate, z_gate, n_gate = gates[t, j], gates[t, hid + j], gates[t, 2 * hid + j]
            d_n = dh[j] * (1.0 - z_gate) * (1.0 - n_gate * n_gate)
            d_r = d_n * hidden_n[t, j] * r_gate * (1.0 - r_gate)
            d_z = dh[j] * (hidden[t, j] - n_gate) * z_gate * (1.0 - z_gate)
            d_input[j], d_input[hid + j], d_input[2 * hid + j] = d_r, d_z, d_n
            d_recurrent[j], d_recurrent[hid + j] = d_r, d_z
            d_recurrent[2 * hid + j] = d_n * r_gate
        x = seq[t]
        for k in range(3 * hid):
            g_w[x, k] += d_input[k]
            g_bias[k] += d_input[k]
        for i in range(hid):
            back = dh[i] * gates[t, hid + i]  # h_{t-1} also passes straight on, times z
            for k in range(3 * hid):
                g_u[i, k] += hidden[t, i] * d_recurrent[k]
                back += u[i, k] * d_recurrent[k]
            carry[i] = back


# --- the compiled entry points -----------------------------------------------------------
# Per kind: the forward pass of one example, its gradient, and training. Each kind has
# its own, so a run compiles only its kind's code. They repeat a few lines rather than
# take the kind's functions as arguments, because numba cannot cache a function that is
# handed other compiled functions as values.

@njit
def _states(buffers):
    """Copies of the states an example left in the scratch space, without the initial
    state: hidden (T-1, hid), softmax outputs (T-1, S), cell (T-1, hid) (empty for the
    SRN and GRU)."""
    hidden, probs, cell = buffers[:3]
    return hidden[1:].copy(), probs.copy(), cell[1:].copy()


# The kind of network is the first argument of the compiled entry points: an instance of
# SrnKind, LstmKind or GruKind (empty named tuples), whose class numba sees when it
# compiles. numba compiles (and caches) a kernel once per argument types, so each kind
# gets its own copy of the loops below, made of its own pieces, and a run of one kind
# never compiles the other kinds' code. The three stubs are resolved when a copy is made.
SrnKind = namedtuple('SrnKind', ())
LstmKind = namedtuple('LstmKind', ())
GruKind = namedtuple('GruKind', ())
KINDS = {'srn': SrnKind(), 'lstm': LstmKind(), 'gru': GruKind()}
_PIECES = {SrnKind: (_srn_buffers, _srn_forward, _srn_backward),
           LstmKind: (_lstm_buffers, _lstm_forward, _lstm_backward),
           GruKind: (_gru_buffers, _gru_forward, _gru_backward)}


def _buffers(kind, num_symbols, hid, longest):
    """Scratch space of the kind (resolved at compile time)."""


def _forward(kind, theta, num_symbols, hid, seq, buffers):
    """The kind's forward pass (resolved at compile time)."""


def _backward(kind, theta, grad, num_symbols, hid, seq, buffers):
    """The kind's backward pass (resolved at compile time)."""


@overload(_buffers)
def _buffers_of_kind(kind, num_symbols, hid, longest):
    make = _PIECES[kind.instance_class][0]
    return lambda kind, num_symbols, hid, longest: make(num_symbols, hid, longest)


@overload(_forward)
def _forward_of_kind(kind, theta, num_symbols, hid, seq, buffers):
    forward = _PIECES[kind.instance_class][1]
    return lambda kind, theta, num_symbols, hid, seq, buffers: \
        forward(theta, num_symbols, hid, seq, buffers)


@overload(_backward)
def _backward_of_kind(kind, theta, grad, num_symbols, hid, seq, buffers):
    backward = _PIECES[kind.instance_class][2]
    return lambda kind, theta, grad, num_symbols, hid, seq, buffers: \
        backward(theta, grad, num_symbols, hid, seq, buffers)


@kernel()
def _example(kind, theta, num_symbols, hid, seq):
    buffers = _buffers(kind, num_symbols, hid, seq.shape[0])
    loss = _forward(kind, theta, num_symbols, hid, seq, buffers)
    return (loss,) + _states(buffers)


@kernel()
def _gradient(kind, theta, num_symbols, hid, seq):
    buffers = _buffers(kind, num_symbols, hid, seq.shape[0])
    grad = np.empty(theta.shape[0])
    loss = _forward(kind, theta, num_symbols, hid, seq, buffers)
    _backward(kind, theta, grad, num_symbols, hid, seq, buffers)
    return loss, grad


# Training runs first_run..stop_run-1 (the caller gives each thread its runs). Run k
# takes one optimiser step per example, in order, writes only row k of the arrays and
# has scratch space of its own: its numbers cannot depend on the other runs, on K, or
# on which thread runs it.

@kernel()
def _train(first_run, stop_run, kind, theta, steps, first, second, symbols, starts,
           losses, num_symbols, hid, optim, lr, mom, weight_decay):
    grad = np.empty(theta.shape[1])
    for k in range(first_run, stop_run):
        buffers = _buffers(kind, num_symbols, hid, _longest(starts[k]))
        for e in range(starts.shape[1] - 1):
            seq = symbols[starts[k, e]:starts[k, e + 1]]
            losses[k, e] = _forward(kind, theta[k], num_symbols, hid, seq, buffers)
            _backward(kind, theta[k], grad, num_symbols, hid, seq, buffers)
            steps[k] = _optimiser_step(optim, theta[k], grad, first[k], second[k],
                                       steps[k], lr, mom, weight_decay)


# --- the Python API ----------------------------------------------------------------------

def _weights_row(layout, theta_row):
    row = np.ascontiguousarray(theta_row, dtype=np.float64)
    if row.shape != (layout.size,):
        raise ValueError(f"weights have shape {row.shape}, expected ({layout.size},)")
    return row


def _symbols(layout, seq):
    """`seq` as contiguous int64, checked: the kernels do not check indices."""
    seq = np.ascontiguousarray(seq, dtype=np.int64)
    if seq.ndim != 1:
        raise ValueError(f"symbols must be a 1-D array, not {seq.ndim}-D")
    if seq.size and (seq.min() < 0 or seq.max() >= layout.num_symbols):
        raise ValueError(f"symbol indices must lie in 0..{layout.num_symbols - 1}")
    return seq


def _checked_example(kind, layout_or_sizes, theta_row, seq):
    layout = Layout.of(kind, layout_or_sizes)
    seq = _symbols(layout, seq)
    if seq.shape[0] < 2:
        raise ValueError("an example needs at least 2 symbols (an input and its successor)")
    return _weights_row(layout, theta_row), layout.num_symbols, layout.hid, seq


def loss_and_grad(kind, layout_or_sizes, theta_row, seq):
    """The mean next-symbol NLL of one example `seq` (T >= 2 symbol indices) and its
    gradient (P,) with respect to the weights `theta_row` (P,)."""
    args = _checked_example(kind, layout_or_sizes, theta_row, seq)
    return call(_gradient, KINDS[kind], *args, seconds=COMPILE_SECONDS)


def forward(kind, layout_or_sizes, theta_row, seq):
    """The network reading seq[:-1]: hidden states (T-1, hid), softmax outputs
    (T-1, symbols) and, for the LSTM, cell states (T-1, hid) (else None)."""
    args = _checked_example(kind, layout_or_sizes, theta_row, seq)
    _, hidden, probs, cell = call(_example, KINDS[kind], *args, seconds=COMPILE_SECONDS)
    return hidden, probs, (cell if kind == 'lstm' else None)


def train(kind, layout_or_sizes, theta, opt_state, symbols, starts, optim, lr, mom=0.0,
          weight_decay=0.0):
    """Train K runs, one optimiser step per example; return each example's loss (K, n).

    theta (K, P) float64, C-contiguous, is updated in place, as is `opt_state` (an
    OptimiserState for K runs); call again to go on where the last call stopped. Example
    e of run k is symbols[starts[k, e]:starts[k, e + 1]], with starts (K, n + 1). The
    loss of an example is the one computed before its step. `optim` is 'sgd' (with
    momentum `mom`, 0 for none) or 'adam' (torch's default betas and eps); both with L2
    `weight_decay` as torch.optim applies it. The runs share the cores; each run's
    numbers are the same whatever K is.
    """
    layout = Layout.of(kind, layout_or_sizes)
    if optim not in OPTIMISERS:
        raise ValueError(f"unknown optimiser {optim!r}; expected one of {OPTIMISERS}")
    if not (isinstance(theta, np.ndarray) and theta.dtype == np.float64 and theta.ndim == 2
            and theta.shape[1] == layout.size and theta.flags.c_contiguous
            and theta.flags.writeable):
        raise ValueError(f"theta must be a writable C-contiguous float64 array "
                         f"(runs, {layout.size})")
    runs = theta.shape[0]
    for name, array, shape, dtype in (('steps', opt_state.steps, (runs,), np.int64),
                                      ('first', opt_state.first, theta.shape, np.float64),
                                      ('second', opt_state.second, theta.shape, np.float64)):
        if array.shape != shape or array.dtype != dtype or not array.flags.c_contiguous:
            raise ValueError(f"optimiser state {name} is {array.dtype} {array.shape}, "
                             f"expected {np.dtype(dtype)} {shape}")
    symbols = _symbols(layout, symbols)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    if starts.ndim != 2 or starts.shape[0] != runs or starts.shape[1] < 1:
        raise ValueError(f"starts must have shape ({runs}, examples + 1), not {starts.shape}")
    if starts.size and (starts.min() < 0 or starts.max() > symbols.shape[0]
                        or (np.diff(starts, axis=1) < 2).any()):
        raise ValueError("every example must be at least 2 symbols long and lie in symbols")
    losses = np.zeros((runs, starts.shape[1] - 1))
    if losses.size == 0:
        return losses
    call_per_run(_train, runs, KINDS[kind], theta, opt_state.steps, opt_state.first,
                 opt_state.second, symbols, starts, losses, layout.num_symbols, layout.hid,
                 SGD if optim == 'sgd' else ADAM, float(lr), float(mom),
                 float(weight_decay), seconds=COMPILE_SECONDS)
    return losses
