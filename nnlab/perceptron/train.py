"""Training for Part 2: K independently initialised networks as one batched computation.

Running the sigmoid network "a few times until it works" is K restarts trained at once.
The networks' weights are stacked into one [K, D] tensor and every operation works row
by row: each network's gradient comes from its own mean loss only, and Adam is
elementwise, so each has its own Adam state. A network stops once it has been at 100%
for `streak` epochs in a row (the course's stopping rule, per network): it leaves the
batch with its weights and is not touched again. K = 1 is the plain single run.

Restart i starts from the weights a single run with seed `seed + i` starts from, and the
arithmetic is arranged so that a network's numbers do not depend on the batch it is in:
restart i of `--seed S --restarts K` is bit for bit the single run with `--seed S+i`.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from check import WEIGHT_NAMES, weight_shapes
from nnlab.cli import stop

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


def lane_safe_sigmoid(z):
    """1 / (1 + exp(-z)). torch.sigmoid's vectorised and scalar code paths round
    differently, so its result for one element depends on where the element sits in the
    tensor, i.e. on K; exp's does not."""
    return torch.exp(-z).add_(1).reciprocal_()


class Networks:
    """K sigmoid networks stacked in `params` [K, D], on the inputs [N, 2].

    The arithmetic uses elementwise products and sums rather than batched matrix
    products, which round differently for different K: this way network i computes
    exactly the same numbers whether it trains alone or among K (restart 0 IS the single
    run). The weight views are made once; they follow in-place updates of `params`.
    """

    def __init__(self, params, hid, inputs):
        self.params = params
        w = unflatten(params, hid)
        self.w_x = w['in_hid_weight'][..., 0].unsqueeze(1)   # [K, 1, hid]
        self.w_y = w['in_hid_weight'][..., 1].unsqueeze(1)
        self.b_hid = w['hid_bias'].unsqueeze(1)              # [K, 1, hid]
        self.w_out = w['hid_out_weight']                     # [K, 1, hid]
        self.b_out = w['out_bias'].unsqueeze(1)              # [K, 1, 1]
        self.x, self.y = inputs[:, 0:1], inputs[:, 1:2]      # [N, 1]

    def forward(self):
        """Hidden [K, N, hid] and output [K, N, 1] activations."""
        hidden = lane_safe_sigmoid(self.x * self.w_x + self.y * self.w_y + self.b_hid)
        output = lane_safe_sigmoid((hidden * self.w_out).sum(-1, keepdim=True) + self.b_out)
        return hidden, output

    def gradient(self, targets):
        """Outputs [K, N, 1] and the gradient [K, D] of each network's mean BCE loss.

        Written out by hand because autograd's bookkeeping costs more than the arithmetic
        on 9 points. The operations are autograd's, in its order: BCE's derivative divides
        by o(1-o) clamped at 1e-12, then the sigmoid's multiplies by it, so a saturated
        output gets no gradient, as in a single run with F.binary_cross_entropy.
        """
        hidden, output = self.forward()
        off = 1 - output
        grad_out = (output - targets) / (off * output).clamp_min(1e-12) / targets.shape[-2]
        grad_out = grad_out * off * output                                  # [K, N, 1]
        grad_pre = grad_out * self.w_out * (1 - hidden) * hidden            # [K, N, hid]
        grad = torch.cat([torch.stack([(grad_pre * self.x).sum(1), (grad_pre * self.y).sum(1)],
                                      dim=-1).flatten(1),
                          grad_pre.sum(1), (grad_out * hidden).sum(1), grad_out.sum(1)], dim=1)
        return output, grad


def batched_forward(params, inputs, hid):
    """Hidden and output activations of the K networks in `params` [K, D]."""
    return Networks(params, hid, inputs).forward()


def bce_losses(output, targets):
    """Each network's mean binary cross-entropy: [K]."""
    return F.binary_cross_entropy(output, targets.expand_as(output),
                                  reduction='none').mean(dim=(1, 2))


class BatchedAdam:
    """torch.optim.Adam's update (L2 weight decay, no amsgrad) for stacked networks.

    Its state is per row, so `keep(rows)` drops networks that stopped training: their
    weights and moments leave the batch and nothing touches them again (a plain
    optimiser would keep moving a frozen network's weights with its moments).
    """

    def __init__(self, params, lr, weight_decay=WEIGHT_DECAY, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.weight_decay = params, lr, weight_decay
        self.beta1, self.beta2, self.eps = betas[0], betas[1], eps
        self.exp_avg = torch.zeros_like(params)
        self.exp_avg_sq = torch.zeros_like(params)
        self.steps = 0  # the same for every network still in the batch

    def step(self, grad):
        """One update of `params` in place, with `grad` [K, D]."""
        self.steps += 1
        grad = grad.add(self.params, alpha=self.weight_decay)
        self.exp_avg.lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        step_size = self.lr / (1 - self.beta1 ** self.steps)
        denom = (self.exp_avg_sq.sqrt() / (1 - self.beta2 ** self.steps) ** 0.5).add_(self.eps)
        self.params.addcdiv_(self.exp_avg, denom, value=-step_size)

    def keep(self, rows):
        self.params, self.exp_avg, self.exp_avg_sq = \
            self.params[rows], self.exp_avg[rows], self.exp_avg_sq[rows]


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
    first_done: int | None = None   # stop_at_first: the restart whose finish ended training

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


def train_restarts(starts, inputs, targets, lr=0.001, epochs=200000,
                   weight_decay=WEIGHT_DECAY, streak=STREAK, log=print, log_every=LOG_EVERY,
                   stop_at_first=False):
    """Train sigmoid networks from the initial weights `starts` (a list of weight dicts).

    With stop_at_first, training ends as soon as one network has finished (its streak at
    100%): that one is kept, the others are left as they are at that epoch. A stuck
    network would otherwise train all `epochs`, and the whole batch waits for it.

    Every `log_every` epochs prints `ep:%5d loss: %6.4f acc: %5.2f` for the network that
    would be kept if training ended now (with K > 1 the line says which). Ctrl-C stops
    training after the current epoch and returns the networks as they are, marked
    `interrupted`.
    """
    threads = torch.get_num_threads()
    # The tensors are tiny: a second thread only adds waiting (milliseconds per epoch on
    # a busy machine) and could change how sums are split.
    torch.set_num_threads(1)
    try:
        return _train(starts, inputs, targets, lr, epochs, weight_decay, streak,
                      log, log_every, stop_at_first)
    finally:
        torch.set_num_threads(threads)


def _train(starts, inputs, targets, lr, epochs, weight_decay, streak, log, log_every,
           stop_at_first):
    hid = starts[0]['hid_bias'].numel()
    num, n_points = len(starts), targets.numel()
    final = torch.stack([flatten(w) for w in starts]).float()   # [K, D], filled as they stop
    stopped = torch.zeros(num, dtype=torch.long)
    final_run = torch.zeros(num, dtype=torch.long)
    last_correct = torch.zeros(num, dtype=torch.long)           # for the log line
    frozen_loss = torch.zeros(num)
    # The networks still training: their indices, weights (in the optimiser), run lengths.
    alive = torch.arange(num)
    adam = BatchedAdam(final.clone(), lr, weight_decay)
    nets = Networks(adam.params, hid, inputs)
    run = torch.zeros(num, dtype=torch.long)                    # epochs in a row at 100%
    positive = targets >= 0.5
    epoch, first_done = 0, None
    for epoch in range(1, epochs + 1):
        output, grad = nets.gradient(targets)
        adam.step(grad)
        # Accuracy of the output before this step, as in the course's loop.
        correct = ((output >= 0.5) == positive).sum(dim=(1, 2))
        run = (run + 1) * (correct == n_points)
        if epoch % log_every == 0:
            last_correct[alive] = correct
            i = int(torch.argmax(last_correct))  # the first network at the best accuracy
            here = torch.nonzero(alive == i)
            loss = bce_losses(output[here[0]], targets) if len(here) else frozen_loss[i]
            suffix = '' if num == 1 else \
                (f'  [restart {i}; {int((last_correct == n_points).sum())}/{num} at 100%, '
                 f'{len(alive)} training]')
            log('ep:%5d loss: %6.4f acc: %5.2f%s'
                % (epoch, float(loss), 100.0 * last_correct[i].item() / n_points, suffix))
        done = run >= streak
        if done.any():
            gone = alive[done]
            final[gone], stopped[gone], final_run[gone] = adam.params[done], epoch, run[done]
            last_correct[gone] = n_points
            frozen_loss[gone] = bce_losses(batched_forward(adam.params[done], inputs, hid)[1],
                                           targets)
            keep = ~done
            alive, run = alive[keep], run[keep]
            adam.keep(keep)
            nets = Networks(adam.params, hid, inputs)
            if stop_at_first:
                first_done = int(gone.min())
            if not len(alive) or stop_at_first:
                break
        if stop.requested:
            break
    final[alive], stopped[alive], final_run[alive] = adam.params, epoch, run
    return _results(final, inputs, targets, hid, final_run, stopped, stop.requested, first_done)


def _results(params, inputs, targets, hid, run, stopped, interrupted, first_done):
    _, output = batched_forward(params, inputs, hid)
    losses = bce_losses(output, targets)
    correct = ((output >= 0.5) == (targets >= 0.5)).sum(dim=(1, 2))
    restarts = []
    for i in range(len(params)):
        acc = 100.0 * correct[i].item() / targets.numel()
        since = int(stopped[i] - run[i] + 1) if acc == 100.0 and run[i] > 0 else None
        weights = {k: v.clone() for k, v in unflatten(params[i], hid).items()}
        restarts.append(Restart(i, acc, losses[i].item(), since, int(stopped[i]), weights))
    return TrainResult(restarts, int(stopped.max()), interrupted, first_done)
