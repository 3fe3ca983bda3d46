"""check.py's MLP trained as written: the probe against the compiled kernel, and PyTorch
autograd training for a network the kernel does not compute (nnlab/engine.py says when).

Training here follows the kernel's rules exactly (kernels.py): float64, the whole set as
one batch, binary cross-entropy, Adam with weight decay, accuracy of the output before
each epoch's update, a network stops after `streak` epochs in a row at 100% or at
`epochs`, the loss and accuracy logged every `log_every` epochs. So the unchanged check.py
trained here prints the kernel's numbers, only slower. The K restarts train one after
the other; each is the single run from its start, as with the kernel.
"""
import copy

import numpy as np
import torch
import torch.nn.functional as F

from nnlab import engine
from nnlab.cli import UserError
from nnlab.perceptron import kernels

CHUNK = 100                  # epochs between log prints and looks at Ctrl-C (under a second)
PROBE_SEED = 20240607        # the probe's own weights: no effect on --seed's numbers
LINEAR_LAYERS = {'in_hid_weight': ('in_hid', 'weight'), 'hid_bias': ('in_hid', 'bias'),
                 'hid_out_weight': ('hid_out', 'weight'), 'out_bias': ('hid_out', 'bias')}


def _named_parameters(net):
    """check.py's four weights as the MLP's parameters (SPEC: in_hid, hid_out), or None."""
    found = {}
    for name, (layer, attribute) in LINEAR_LAYERS.items():
        param = getattr(getattr(net, layer, None), attribute, None)
        if not isinstance(param, torch.nn.Parameter):
            return None
        found[name] = param
    return found


def float64_copy(net):
    """A deep copy of the student's network in float64, in eval mode."""
    return copy.deepcopy(net).to(torch.float64).eval()


def _outputs(net, inputs):
    output = net(inputs)
    if not isinstance(output, torch.Tensor) or output.numel() != inputs.shape[0]:
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output)
        raise UserError(f"check.py's MLP.forward returns {shape} for {inputs.shape[0]} "
                        f"points; it should return one output per point ({inputs.shape[0]}, "
                        f"1)")
    return output.reshape(-1)


def probe(net, inputs, targets, seed=PROBE_SEED):
    """None where the student's `net` computes the kernel's loss and gradient (to
    engine.TOLERANCE) on random weights, else what differed, in words."""
    named = _named_parameters(net)
    if named is None:
        return "its layers are not in_hid and hid_out (nn.Linear), which the kernel trains"
    hid = kernels.hidden_units(sum(p.numel() for p in named.values()))
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 1.0, kernels.weight_size(hid))
    want_loss, want_grad = kernels.loss_and_grad(weights, inputs.numpy(), targets.numpy())
    model = float64_copy(net)
    named = _named_parameters(model)
    with torch.no_grad():
        start = 0
        for name in named:
            param = named[name]
            param.copy_(torch.from_numpy(weights[start:start + param.numel()])
                        .reshape(param.shape))
            start += param.numel()
    model.zero_grad()
    loss = F.binary_cross_entropy(_outputs(model, inputs.double()),
                                  targets.double().reshape(-1))
    loss.backward()
    differences = [('the loss', abs(loss.item() - want_loss))]
    start = 0
    for name, param in named.items():
        grad = np.zeros(param.numel()) if param.grad is None else \
            param.grad.detach().numpy().reshape(-1)
        differences.append((f'the gradient of {name}',
                            float(np.max(np.abs(grad - want_grad[start:start + grad.size])))))
        start += grad.size
    return engine.differences_text(differences)


class AutogradTraining:
    """K networks trained one after the other by autograd, with the fields of
    kernels.KernelTraining that train.py reads (weights, epoch, log_loss, log_correct, ...)."""

    def __init__(self, net, initial, inputs, targets, lr, weight_decay=kernels.WEIGHT_DECAY,
                 epochs=kernels.EPOCHS, streak=kernels.STREAK, log_every=kernels.LOG_EVERY):
        self.net = float64_copy(net).train()
        self.weights = np.array(initial, dtype=np.float64, ndmin=2)
        self.inputs = torch.as_tensor(inputs, dtype=torch.float64)
        self.targets = np.asarray(targets, dtype=np.float64).reshape(-1)
        self._targets = torch.from_numpy(self.targets)
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.epochs, self.streak, self.log_every = int(epochs), int(streak), int(log_every)
        count = self.weights.shape[0]
        self.epoch = np.zeros(count, dtype=np.int64)
        self.in_a_row = np.zeros(count, dtype=np.int64)
        self.done = np.zeros(count, dtype=np.bool_)
        self.log_loss = np.full((count, self.epochs // self.log_every), np.nan)
        self.log_correct = np.full((count, self.epochs // self.log_every), -1, dtype=np.int64)

    perfect_since = kernels.KernelTraining.perfect_since

    def _load(self, k):
        named = _named_parameters(self.net)
        with torch.no_grad():
            start = 0
            for param in named.values():
                param.copy_(torch.from_numpy(self.weights[k, start:start + param.numel()])
                            .reshape(param.shape))
                start += param.numel()
        return named

    def _train_one(self, k, until, interrupted, after_chunk, chunk):
        """Network k from its start to epoch `until` or its stop (False: interrupted)."""
        named = self._load(k)
        optimiser = torch.optim.Adam(named.values(), lr=self.lr,
                                     weight_decay=self.weight_decay)
        points, target = self.inputs.shape[0], self._targets
        positive = target >= 0.5
        rows = self.log_loss.shape[1]
        while self.epoch[k] < until and not self.done[k]:
            self.epoch[k] += 1
            epoch = int(self.epoch[k])
            output = _outputs(self.net, self.inputs)
            loss = F.binary_cross_entropy(output, target)
            correct = int(((output >= 0.5) == positive).sum())
            if epoch % self.log_every == 0 and epoch // self.log_every <= rows:
                self.log_loss[k, epoch // self.log_every - 1] = loss.item()
                self.log_correct[k, epoch // self.log_every - 1] = correct
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            self.in_a_row[k] = self.in_a_row[k] + 1 if correct == points else 0
            if self.in_a_row[k] >= self.streak:
                self.done[k] = True
            if epoch % chunk == 0:
                if after_chunk is not None:
                    after_chunk(self, epoch - chunk, epoch)
                if interrupted is not None and interrupted():
                    self._store(k, named)
                    return False
        self._store(k, named)
        return True

    def _store(self, k, named):
        self.weights[k] = np.concatenate([p.detach().numpy().reshape(-1)
                                          for p in named.values()])

    def train(self, stop_at_first=False, interrupted=None, after_chunk=None, chunk=CHUNK):
        """Train every network (kernels.train_networks' contract). With one network the
        log comes every `chunk` epochs; with several, once they have all trained."""
        count, start = self.weights.shape[0], self.weights.copy()
        live = after_chunk if count == 1 else None
        until, first = self.epochs, None
        for k in range(count):
            if not self._train_one(k, until, interrupted, live, chunk):
                break
            if stop_at_first and self.done[k] and int(self.epoch[k]) < until:
                until, first = int(self.epoch[k]), k
        if first is not None:            # the networks before the first to finish stop
            for k in range(first):       # at its epoch: train them again up to there
                if self.epoch[k] > until:
                    self.weights[k], self.epoch[k], self.in_a_row[k] = start[k], 0, 0
                    self.done[k] = False
                    self.log_loss[k], self.log_correct[k] = np.nan, -1
                    self._train_one(k, until, None, None, chunk)
        if after_chunk is not None:
            done = int(self.epoch.max())
            if count > 1 or done % chunk:
                after_chunk(self, done - done % chunk if count == 1 else 0, done)
        return first

    def evaluate(self):
        """Loss (K,) and correct points (K,) of the current weights, by the student's net."""
        losses, correct = [], []
        with torch.no_grad():
            for k in range(self.weights.shape[0]):
                self._load(k)
                output = _outputs(self.net, self.inputs)
                losses.append(float(F.binary_cross_entropy(output, self._targets)))
                correct.append(int(((output >= 0.5) == (self._targets >= 0.5)).sum()))
        return np.array(losses), np.array(correct)
