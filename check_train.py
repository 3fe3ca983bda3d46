"""Training for Part 2: K independently initialised networks as one batched computation.

Running the sigmoid network "a few times until it works" is K restarts trained at once.
The K networks' parameters are stacked into one [K, D] tensor; the loss is the SUM of
the networks' own mean losses, so each network's gradient is exactly what it would get
alone, and Adam works elementwise, so each network also has its own Adam state. A
network stops updating once it has been at 100% for `streak` epochs in a row (the
course's stopping rule, applied to each network separately). K = 1 is the plain run.

Restart i starts from the weights a single run with seed `seed + i` starts from, so
restart 0 is the single run and any restart can be replayed alone.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from check import ACTIVATIONS, WEIGHT_NAMES, weight_shapes

WEIGHT_DECAY = 1e-5
STREAK = 2000     # epochs in a row at 100% after which a network stops
LOG_EVERY = 100


def initial_weights(hid, std, seed):
    """Normal(0, std) weights drawn in the order of MLP.parameters(), from `seed` alone."""
    gen = torch.Generator().manual_seed(seed)
    return {name: torch.empty(shape).normal_(0.0, std, generator=gen)
            for name, shape in weight_shapes(hid).items()}


def flatten(weights):
    """The four named tensors as one vector (layout: WEIGHT_NAMES order)."""
    return torch.cat([torch.as_tensor(weights[name]).reshape(-1) for name in WEIGHT_NAMES])


def unflatten(params, hid):
    """Views of the four weight tensors in parameters of shape [..., D]."""
    lead = params.shape[:-1]
    views, start = {}, 0
    for name, shape in weight_shapes(hid).items():
        size = 1
        for n in shape:
            size *= n
        views[name] = params[..., start:start + size].reshape(*lead, *shape)
        start += size
    return views


def batched_forward(params, inputs, hid, act):
    """Hidden [K, N, hid] and output [K, N, 1] activations of K networks (params [K, D])
    on the same inputs [N, 2]."""
    w = unflatten(params, hid)
    f = ACTIVATIONS[act]
    hidden = f(torch.baddbmm(w['hid_bias'].unsqueeze(1), inputs.expand(len(params), -1, -1),
                             w['in_hid_weight'].transpose(1, 2)))
    return hidden, f(torch.baddbmm(w['out_bias'].unsqueeze(1), hidden,
                                   w['hid_out_weight'].transpose(1, 2)))


def bce_gradient(params, inputs, targets, hid):
    """Forward pass and the gradient [K, D] of each sigmoid network's mean BCE loss.

    Written out by hand because autograd's bookkeeping costs more than the arithmetic on
    9 points. The formulas are autograd's: BCE's derivative divides by o(1-o) clamped at
    1e-12, then the sigmoid's multiplies by it, so a saturated output gets no gradient,
    as in a single run with F.binary_cross_entropy.
    """
    w = unflatten(params, hid)
    x = inputs.expand(len(params), -1, -1)
    hidden = torch.sigmoid(torch.baddbmm(w['hid_bias'].unsqueeze(1), x,
                                         w['in_hid_weight'].transpose(1, 2)))
    output = torch.sigmoid(torch.baddbmm(w['out_bias'].unsqueeze(1), hidden,
                                         w['hid_out_weight'].transpose(1, 2)))
    slope = (1 - output) * output
    grad_out = (output - targets) / (slope.clamp_min(1e-12) * targets.shape[-2]) * slope
    grad_hidden = torch.bmm(grad_out, w['hid_out_weight']) * ((1 - hidden) * hidden)
    grad = torch.cat([torch.bmm(grad_hidden.transpose(1, 2), x).flatten(1),
                      grad_hidden.sum(1),
                      torch.bmm(grad_out.transpose(1, 2), hidden).flatten(1),
                      grad_out.sum(1)], dim=1)
    return output, grad


def bce_losses(output, targets):
    """Each network's mean binary cross-entropy: [K]."""
    return F.binary_cross_entropy(output, targets.expand_as(output),
                                  reduction='none').mean(dim=(1, 2))


class MaskedAdam:
    """torch.optim.Adam's update (L2 weight decay, no amsgrad) with a per-network mask.

    A plain optimiser cannot freeze one network: with zero gradient its moments still
    move its weights. Here a frozen network's weights are simply not updated. Frozen
    networks never resume, so their (stale) moments are never read again, and the shared
    step counter is right for every network still training.
    """

    def __init__(self, params, lr, weight_decay=WEIGHT_DECAY, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.weight_decay = params, lr, weight_decay
        self.beta1, self.beta2, self.eps = betas[0], betas[1], eps
        self.exp_avg = torch.zeros_like(params)
        self.exp_avg_sq = torch.zeros_like(params)
        self.steps = 0

    def step(self, grad, mask):
        """One update with `grad` [K, D]; `mask` [K, 1] is 1 for networks still training."""
        self.steps += 1
        grad = grad.add(self.params, alpha=self.weight_decay)
        self.exp_avg.lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        step_size = self.lr / (1 - self.beta1 ** self.steps)
        denom = (self.exp_avg_sq.sqrt() / (1 - self.beta2 ** self.steps) ** 0.5).add_(self.eps)
        self.params.sub_(self.exp_avg / denom * mask, alpha=step_size)


@dataclass
class Restart:
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

    def kept(self):
        """The first restart (in index order) with the best final accuracy.

        In index order, as a user restarting by hand keeps the first run that works; so
        when restart 0 reaches 100%, the result is exactly the single run's.
        """
        best = max(r.accuracy for r in self.restarts)
        return next(r for r in self.restarts if r.accuracy == best)


def train_restarts(starts, inputs, targets, lr=0.001, epochs=200000,
                   weight_decay=WEIGHT_DECAY, streak=STREAK, log=print, log_every=LOG_EVERY):
    """Train sigmoid networks from the initial weights `starts` (a list of weight dicts).

    Every `log_every` epochs prints `ep:%5d loss: %6.4f acc: %5.2f` for the network that
    would be kept if training ended now (with K > 1 the line says which). Ctrl-C stops
    training and returns the networks as they are, marked `interrupted`.
    """
    hid = starts[0]['hid_bias'].numel()
    num, n_points = len(starts), targets.numel()
    params = torch.stack([flatten(w) for w in starts]).float()
    adam = MaskedAdam(params, lr, weight_decay)
    mask = torch.ones(num, 1)                   # 1 while a network trains, then 0
    run = torch.zeros(num, dtype=torch.long)    # epochs in a row at 100%
    stopped = torch.full((num,), epochs, dtype=torch.long)
    epoch, interrupted = 0, False
    try:
        for epoch in range(1, epochs + 1):
            output, grad = bce_gradient(params, inputs, targets, hid)
            adam.step(grad, mask)
            # Accuracy of the output before this step, as in the course's loop; frozen
            # networks keep their run length (mask 0).
            correct = ((output >= 0.5) == (targets >= 0.5)).sum(dim=(1, 2))
            run = torch.where(mask[:, 0] > 0, (run + 1) * (correct == n_points), run)
            if epoch % log_every == 0:
                i = int(torch.argmax(correct))  # the first network at the best accuracy
                suffix = '' if num == 1 else \
                    (f'  [restart {i}; {int((correct == n_points).sum())}/{num} at 100%, '
                     f'{int(mask.sum())} training]')
                log('ep:%5d loss: %6.4f acc: %5.2f%s'
                    % (epoch, bce_losses(output[i:i + 1], targets).item(),
                       100.0 * correct[i].item() / n_points, suffix))
            done = (run >= streak) & (mask[:, 0] > 0)
            if done.any():
                stopped[done] = epoch
                mask[done] = 0.0
                if not mask.any():
                    break
    except KeyboardInterrupt:
        interrupted = True
    if epoch < epochs:  # stopped early (all done, or Ctrl-C): the rest ran until now
        stopped = torch.where(mask[:, 0] > 0, epoch, stopped)
    return _results(params, inputs, targets, hid, run, stopped, interrupted)


def _results(params, inputs, targets, hid, run, stopped, interrupted):
    hidden, output = batched_forward(params, inputs, hid, 'sig')
    losses = bce_losses(output, targets)
    correct = ((output >= 0.5) == (targets >= 0.5)).sum(dim=(1, 2))
    restarts = []
    for i in range(len(params)):
        acc = 100.0 * correct[i].item() / targets.numel()
        since = int(stopped[i] - run[i] + 1) if acc == 100.0 and run[i] > 0 else None
        weights = {k: v.clone() for k, v in unflatten(params[i], hid).items()}
        restarts.append(Restart(i, acc, losses[i].item(), since, int(stopped[i]), weights))
    return TrainResult(restarts, int(stopped.max()), interrupted)
