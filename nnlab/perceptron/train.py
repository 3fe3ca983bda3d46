"""Training for Part 2: K independently initialised networks, the course's rules each.

Running the sigmoid network "a few times until it works" is K restarts trained at once by
the compiled kernel (kernels.py): each network has its own Adam state and stops on its
own once it has been at 100% for `streak` epochs in a row (the course's stopping rule),
or at `epochs`. K = 1 is the plain single run.

Restart i starts from the weights a single run with seed `seed + i` starts from, and a
network's numbers do not depend on the others: restart i of `--seed S --restarts K` is
bit for bit the single run with `--seed S+i`.
"""
from dataclasses import dataclass

import numpy as np
import torch

from check import WEIGHT_NAMES, weight_shapes
from nnlab.cli import stop
from nnlab.perceptron import kernels

WEIGHT_DECAY = kernels.WEIGHT_DECAY
STREAK = kernels.STREAK
LOG_EVERY = kernels.LOG_EVERY


def initial_weights(hid, std, seed):
    """Normal(0, std) weights drawn in the order of MLP.parameters(), from `seed` alone."""
    gen = torch.Generator().manual_seed(seed)
    return {name: torch.empty(shape).normal_(0.0, std, generator=gen)
            for name, shape in weight_shapes(hid).items()}


def flatten(weights):
    """The four named tensors as one float64 vector (WEIGHT_NAMES order: the kernel's)."""
    return np.concatenate([np.asarray(weights[name], dtype=np.float64).reshape(-1)
                           for name in WEIGHT_NAMES])


def unflatten(vector, hid):
    """The four named float32 tensors (as MLP.load_weights takes them) of one vector."""
    named, start = {}, 0
    for name, shape in weight_shapes(hid).items():
        size = int(np.prod(shape))
        named[name] = torch.tensor(vector[start:start + size].reshape(shape),
                                   dtype=torch.float32)
        start += size
    return named


@dataclass
class RestartOutcome:
    """How one of the K networks did."""
    index: int
    accuracy: float            # on the final weights
    loss: float                # on the final weights
    perfect_since: int | None  # first epoch of its final run at 100%, if it ends at 100%
    stopped: int               # the last epoch it trained
    weights: dict

    @property
    def success(self):
        return self.accuracy == 100.0


@dataclass
class TrainResult:
    restarts: list
    epochs: int                # the last epoch any network trained
    interrupted: bool = False
    first_done: int | None = None   # stop_at_first: the restart whose finish ended training
    log_epochs: np.ndarray = None   # (M,) the epochs logged: 100, 200, ...
    log_loss: np.ndarray = None     # (K, M) loss at those epochs, NaN after a stop
    log_accuracy: np.ndarray = None  # (K, M) accuracy in %, NaN after a stop

    def kept(self):
        """The first restart (in index order) with the best final accuracy, or with
        stop_at_first the one that finished first.

        In index order, as a user restarting by hand keeps the first run that works; so
        when restart 0 reaches 100%, the result is exactly the single run's.
        """
        if self.first_done is not None:
            return self.restarts[self.first_done]
        best = max(r.accuracy for r in self.restarts)
        return next(r for r in self.restarts if r.accuracy == best)


class LogLines:
    """The course's `ep:` line every `log_every` epochs, for the network that would be kept
    if training ended then: the first at the best accuracy, a stopped network counting
    with its final figures (with K > 1 the line says which restart and how many are at
    100%)."""

    def __init__(self, training, log):
        self.log = log
        count = training.weights.shape[0]
        self.correct = np.full(count, -1)           # at the latest logged epoch
        self.loss = np.full(count, np.nan)

    def __call__(self, training, start, end):
        every, points = training.log_every, training.targets.shape[0]
        count = len(self.correct)
        end = min(end, int(training.epoch.max()))     # all may have stopped before `end`
        for m in range(start // every, end // every):
            trained = training.log_correct[:, m] >= 0
            self.correct[trained] = training.log_correct[trained, m]
            self.loss[trained] = training.log_loss[trained, m]
            best = int(np.argmax(self.correct))
            suffix = '' if count == 1 else (
                f'  [restart {best}; {int((self.correct == points).sum())}/{count} at 100%, '
                f'{int(trained.sum())} training]')
            self.log('ep:%5d loss: %6.4f acc: %5.2f%s'
                     % ((m + 1) * every, self.loss[best], 100.0 * self.correct[best] / points,
                        suffix))


def train_restarts(starts, inputs, targets, lr=0.001, epochs=200000,
                   weight_decay=WEIGHT_DECAY, streak=STREAK, log=print, log_every=LOG_EVERY,
                   stop_at_first=False, net=None):
    """Train sigmoid networks from the initial weights `starts` (a list of weight dicts):
    with the compiled kernel, or with `net` (the student's MLP) given, a float64 copy of it
    by PyTorch autograd (autograd.py), by the same rules.

    With stop_at_first, training ends as soon as one network has finished (its streak at
    100%): that one is kept, the others are left as they are at that epoch. A stuck
    network would otherwise train all `epochs`, and the whole batch waits for it.

    A stop request (Ctrl-C, SIGTERM) ends training after the current chunk of epochs and
    returns the networks as they are, marked `interrupted`.
    """
    hid = int(starts[0]['hid_bias'].numel())
    initial = np.stack([flatten(w) for w in starts])
    if net is None:
        training = kernels.KernelTraining(initial, inputs.numpy(), targets.numpy(), lr,
                                    weight_decay, epochs, streak, log_every)
        first = kernels.train_networks(training, stop_at_first=stop_at_first,
                                       interrupted=lambda: stop.requested,
                                       after_chunk=LogLines(training, log))
    else:
        from nnlab import student
        from nnlab.perceptron import autograd
        training = autograd.AutogradTraining(net, initial, inputs, targets.numpy(), lr,
                                     weight_decay, epochs, streak, log_every)
        from nnlab.engine import one_torch_thread
        with one_torch_thread(), student.blame('check', None, 'training with PyTorch autograd'):
            first = training.train(stop_at_first=stop_at_first,
                                   interrupted=lambda: stop.requested,
                                   after_chunk=LogLines(training, log))
    loss, correct = training.evaluate()
    points = training.targets.shape[0]
    since = training.perfect_since
    restarts = []
    for i in range(len(starts)):
        accuracy = 100.0 * int(correct[i]) / points
        perfect = int(since[i]) if accuracy == 100.0 and since[i] > 0 else None
        restarts.append(RestartOutcome(i, accuracy, float(loss[i]), perfect, int(training.epoch[i]),
                                unflatten(training.weights[i], hid)))
    logged = training.log_correct >= 0
    return TrainResult(restarts, int(training.epoch.max()), stop.requested, first,
                       log_epochs=log_every * np.arange(1, logged.shape[1] + 1),
                       log_loss=np.where(logged, training.log_loss, np.nan),
                       log_accuracy=np.where(logged, 100.0 * training.log_correct / points,
                                             np.nan))
