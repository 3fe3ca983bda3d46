"""Compiled (numba) training of Part 2's perceptron: K sigmoid networks 2 -> hid -> 1.

The maths of the course's torch loop, in float64:

    output = net(inputs)                      # sigmoid at both layers, all N points
    loss = F.binary_cross_entropy(output, targets)
    loss.backward(); adam.step()              # Adam(lr, weight_decay=1e-5)

Accuracy is that of the output before the epoch's update. A network stops once it has
been at 100% for `streak` epochs in a row, or at `epochs`. Each network has its own
Adam state and stopping rule, and its numbers never depend on the other networks:
network i of K is bit for bit the single run from the same weights.

A network's weights are one vector (D,) = (4 hid + 1,): in_hid_weight (hid, 2) row by
row, hid_bias (hid,), hid_out_weight (1, hid), out_bias (1,), the order of check.py's
WEIGHT_NAMES.

Training goes in chunks of epochs (`KernelTraining.advance`), so that a caller can print the
log, react to Ctrl-C, or stop every network when the first one finishes (see
`train_networks`) between chunks.
"""
import math

import numpy as np
from numba import njit

from nnlab.compiled import adam_step, call, call_per_run, kernel, sigmoid

WEIGHT_DECAY = 1e-5
STREAK = 2000          # epochs in a row at 100% after which a network stops
LOG_EVERY = 100
EPOCHS = 200000
CHUNK = 20000          # epochs per call: about 0.1 s, short enough to answer Ctrl-C
BCE_LOG_FLOOR = -100.0      # F.binary_cross_entropy clamps each log here
BCE_EPS = 1e-12             # ... and its gradient divides by o(1-o) clamped here
COMPILE_SECONDS = 3         # what the "compiling" notice announces


def weight_size(hid):
    return 4 * hid + 1


def hidden_units(size):
    if size < 5 or (size - 1) % 4:
        raise ValueError(f"{size} weights do not make a 2-hid-1 network (4 hid + 1)")
    return (size - 1) // 4


# --- compiled code -----------------------------------------------------------------------

@njit
def _forward(w, inputs, targets, hidden, output):
    """Fill hidden (N, hid) and output (N,); return the number of points classified
    right (output >= 0.5 for target 1)."""
    hid = hidden.shape[1]
    correct = 0
    for p in range(inputs.shape[0]):
        x, y = inputs[p, 0], inputs[p, 1]
        total = 0.0
        for j in range(hid):
            h = sigmoid((x * w[2 * j] + y * w[2 * j + 1]) + w[2 * hid + j])
            hidden[p, j] = h
            total += h * w[3 * hid + j]
        output[p] = sigmoid(total + w[4 * hid])
        if (output[p] >= 0.5) == (targets[p] >= 0.5):
            correct += 1
    return correct


@njit
def _bce(output, targets):
    """F.binary_cross_entropy: the mean over the points, each log clamped at -100."""
    total = 0.0
    for p in range(output.shape[0]):
        o, t = output[p], targets[p]
        total -= (t * max(math.log(o), BCE_LOG_FLOOR)
                  + (1.0 - t) * max(math.log(1.0 - o), BCE_LOG_FLOOR))
    return total / output.shape[0]


@njit
def _gradient(w, inputs, targets, hidden, output, grad):
    """The gradient of the mean BCE into grad (D,), as autograd computes it: BCE's
    derivative divides by o(1-o) clamped at 1e-12, the sigmoid's multiplies by o(1-o),
    so a saturated output passes no gradient back."""
    hid = hidden.shape[1]
    count = inputs.shape[0]
    grad[:] = 0.0
    for p in range(count):
        o, t = output[p], targets[p]
        d_out = (o - t) / max((1.0 - o) * o, BCE_EPS) / count
        d_out = d_out * (1.0 - o) * o
        grad[4 * hid] += d_out
        x, y = inputs[p, 0], inputs[p, 1]
        for j in range(hid):
            h = hidden[p, j]
            grad[3 * hid + j] += d_out * h
            d_hidden = d_out * w[3 * hid + j] * (1.0 - h) * h
            grad[2 * j] += d_hidden * x
            grad[2 * j + 1] += d_hidden * y
            grad[2 * hid + j] += d_hidden


@kernel()
def _loss_and_grad(w, inputs, targets):
    count, hid = inputs.shape[0], (w.shape[0] - 1) // 4
    hidden = np.empty((count, hid))
    output = np.empty(count)
    grad = np.empty(w.shape[0])
    _forward(w, inputs, targets, hidden, output)
    _gradient(w, inputs, targets, hidden, output, grad)
    return _bce(output, targets), grad


@kernel()
def _train_networks(first_net, stop_net, weights, exp_avg, exp_avg_sq, epoch, in_a_row, done,
                    inputs, targets, lr, weight_decay, until, streak, log_every, log_loss,
                    log_correct):
    """Train networks first_net..stop_net-1 up to epoch `until` or their stop.

    Network k writes only row k of the arrays (so its numbers cannot depend on the
    others); its epoch count is also its Adam step count.
    """
    count, hid = inputs.shape[0], (weights.shape[1] - 1) // 4
    hidden = np.empty((count, hid))
    output = np.empty(count)
    grad = np.empty(weights.shape[1])
    for k in range(first_net, stop_net):
        w, first_moment, second_moment = weights[k], exp_avg[k], exp_avg_sq[k]
        while epoch[k] < until and not done[k]:
            epoch[k] += 1
            correct = _forward(w, inputs, targets, hidden, output)
            row = epoch[k] // log_every - 1
            if epoch[k] % log_every == 0 and row < log_loss.shape[1]:
                log_loss[k, row] = _bce(output, targets)
                log_correct[k, row] = correct
            _gradient(w, inputs, targets, hidden, output, grad)
            adam_step(w, grad, first_moment, second_moment, epoch[k], lr, weight_decay)
            in_a_row[k] = in_a_row[k] + 1 if correct == count else 0
            if in_a_row[k] >= streak:
                done[k] = True


# --- the Python API ----------------------------------------------------------------------

def _points(inputs, targets):
    """inputs (N, 2) and targets (N,) as contiguous float64, checked (the kernels do not
    check indices)."""
    inputs = np.ascontiguousarray(inputs, dtype=np.float64)
    targets = np.ascontiguousarray(targets, dtype=np.float64).reshape(-1)
    if inputs.ndim != 2 or inputs.shape[1] != 2 or inputs.shape[0] != targets.shape[0] \
            or not len(targets):
        raise ValueError(f"inputs {inputs.shape} and targets {targets.shape} must be "
                         f"(N, 2) and (N,), N > 0")
    return inputs, targets


def loss_and_grad(weights, inputs, targets):
    """The mean BCE of one network `weights` (D,) on the points and its gradient (D,)."""
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if weights.ndim != 1:
        raise ValueError(f"weights must be one network's vector, not {weights.shape}")
    hidden_units(weights.shape[0])
    return call(_loss_and_grad, weights, *_points(inputs, targets), seconds=COMPILE_SECONDS)


class KernelTraining:
    """K networks in training, and all they carry from one chunk of epochs to the next.

    weights (K, D), exp_avg and exp_avg_sq (K, D): the networks and their Adam state.
    epoch (K,): epochs trained; in_a_row (K,): epochs in a row at 100% up to then; done (K,):
    stopped by the streak rule. log_loss (K, M) and log_correct (K, M): the loss and
    number of correct points of epochs log_every, 2 log_every, ... (M = epochs //
    log_every), NaN and -1 for epochs a network did not train.
    """

    def __init__(self, initial, inputs, targets, lr, weight_decay=WEIGHT_DECAY,
                 epochs=EPOCHS, streak=STREAK, log_every=LOG_EVERY):
        self.weights = np.array(initial, dtype=np.float64, order='C', ndmin=2)
        if self.weights.ndim != 2:
            raise ValueError(f"initial weights must be (networks, D), not "
                             f"{self.weights.shape}")
        self.hid = hidden_units(self.weights.shape[1])
        self.inputs, self.targets = _points(inputs, targets)
        if log_every < 1 or streak < 1 or epochs < 0:
            raise ValueError("log_every and streak must be at least 1, epochs at least 0")
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.epochs, self.streak, self.log_every = int(epochs), int(streak), int(log_every)
        networks = self.weights.shape[0]
        self.exp_avg = np.zeros_like(self.weights)
        self.exp_avg_sq = np.zeros_like(self.weights)
        self.epoch = np.zeros(networks, dtype=np.int64)
        self.in_a_row = np.zeros(networks, dtype=np.int64)
        self.done = np.zeros(networks, dtype=np.bool_)
        self.log_loss = np.full((networks, self.epochs // self.log_every), np.nan)
        self.log_correct = np.full((networks, self.epochs // self.log_every), -1,
                                   dtype=np.int64)

    _STATE = ('weights', 'exp_avg', 'exp_avg_sq', 'epoch', 'in_a_row', 'done', 'log_loss',
              'log_correct')

    def snapshot(self):
        """A copy of everything training changes, for `restore`."""
        return {name: getattr(self, name).copy() for name in self._STATE}

    def restore(self, snapshot):
        for name in self._STATE:
            getattr(self, name)[...] = snapshot[name]

    def advance(self, until):
        """Train every network that has not stopped up to epoch `until` (at most
        `epochs`). Going there in one call or in several gives the same numbers."""
        until = min(int(until), self.epochs)
        call_per_run(_train_networks, self.weights.shape[0], self.weights, self.exp_avg,
                     self.exp_avg_sq, self.epoch, self.in_a_row, self.done, self.inputs,
                     self.targets, self.lr, self.weight_decay, until, self.streak,
                     self.log_every, self.log_loss, self.log_correct,
                     seconds=COMPILE_SECONDS)

    @property
    def finished(self):
        """(K,) True for the networks that will not train any further."""
        return self.done | (self.epoch >= self.epochs)

    @property
    def perfect_since(self):
        """(K,) the first epoch of the network's final run at 100%, -1 if it has none.

        Accuracy as the log has it, of the output before each epoch's update; whether the
        final weights themselves are at 100% is for `evaluate` to say."""
        return np.where(self.in_a_row > 0, self.epoch - self.in_a_row + 1, -1)

    def evaluate(self):
        """Loss (K,) and correct points (K,) of the current weights."""
        return evaluate(self.weights, self.inputs, self.targets)


def evaluate(weights, inputs, targets):
    """Loss (K,) and number of correct points (K,) of networks `weights` (K, D) (numpy,
    the kernel's formulas; the last digit of a loss may differ from the logged one)."""
    weights = np.array(weights, dtype=np.float64, ndmin=2)
    hid = hidden_units(weights.shape[1])
    inputs = np.asarray(inputs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64).reshape(-1)
    w_x, w_y = weights[:, 0:2 * hid:2, None], weights[:, 1:2 * hid:2, None]   # (K, hid, 1)
    bias = weights[:, 2 * hid:3 * hid, None]
    hidden = 1.0 / (1.0 + np.exp(-((inputs[:, 0] * w_x + inputs[:, 1] * w_y) + bias)))
    total = np.zeros((weights.shape[0], inputs.shape[0]))
    for j in range(hid):                       # summed in the kernel's order
        total += hidden[:, j] * weights[:, 3 * hid + j, None]
    output = 1.0 / (1.0 + np.exp(-(total + weights[:, 4 * hid, None])))
    with np.errstate(divide='ignore'):
        loss = -np.mean(targets * np.maximum(np.log(output), BCE_LOG_FLOOR)
                        + (1 - targets) * np.maximum(np.log(1 - output), BCE_LOG_FLOOR),
                        axis=1)
    correct = ((output >= 0.5) == (targets >= 0.5)).sum(axis=1)
    return loss, correct


def train_networks(training, chunk=CHUNK, stop_at_first=False, interrupted=None,
                   after_chunk=None):
    """Advance `training` chunk by chunk until every network has finished.

    After each chunk `after_chunk(training, start, end)` may print the log of epochs
    start+1..end, and `interrupted()` returning True ends training there (Ctrl-C).

    With stop_at_first, training ends at the epoch E where the first network finishes
    its streak, every network stopped at E: the chunk in which that happened is run
    again from a snapshot, up to E. That costs one chunk and gives exactly the numbers
    of a single call up to E. Returns the index of the network that finished first
    (the lowest if several did at E), or None.
    """
    start = int(training.epoch.max(initial=0))
    while not training.finished.all():
        end = min(training.epochs, start + chunk)
        saved = training.snapshot() if stop_at_first else None
        training.advance(end)
        if stop_at_first and training.done.any():
            first_epoch = int(training.epoch[training.done].min())
            training.restore(saved)
            training.advance(first_epoch)
            if after_chunk is not None:
                after_chunk(training, start, first_epoch)
            return int(np.flatnonzero(training.done)[0])
        if after_chunk is not None:
            after_chunk(training, start, end)
        start = end
        if interrupted is not None and interrupted():
            break
    return None
