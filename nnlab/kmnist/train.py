"""One training epoch and one test pass, printing exactly what the course's script printed.

The data are whole tensors in memory (see data.py): a training batch is a slice,
64 images in file order, no shuffling, as the original DataLoader gave them; the test
pass runs in large batches because batching does not change its numbers beyond
rounding. Loss, optimiser and printed numbers follow the original definitions.
"""
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

from nnlab.cli import UserError, stop

BATCH = 64
TEST_BATCH = 1000
LOG_EVERY = 100   # batches between 'Train Epoch' lines


def threads_for(net_name):
    """Threads for training this net (check with `python3 -m bench.bench_kuzu --threads`).

    A step of the small nets is mostly per-call overhead: a second thread only adds
    synchronisation, and makes them several times slower when other jobs share the
    cores. The conv net has enough work per step to use every core.
    """
    return 1 if net_name in ('lin', 'full') else torch.get_num_threads()


def prepare(net, images, fast_layout):
    """Put the net and its images in the memory layout its kernels run fastest in.

    Convolutions on this CPU are faster with channels-last tensors; the values and the
    state dict are the same either way. `fast_layout` says whether the net runs the same
    in it (nets.runs_channels_last): a student's `x.view(...)` may need the default one.
    """
    if fast_layout:
        net = net.to(memory_format=torch.channels_last)
        images = [x.contiguous(memory_format=torch.channels_last) for x in images]
    return net, images


def train_epoch(net, optimizer, images, labels, epoch):
    """One pass over the training set in batches of 64, printing every 100 batches.

    Returns the printed points as [(batch, images seen, loss)]. Stops at a batch
    boundary when a stop was requested (the epoch then counts as unfinished).
    """
    net.train()
    n = len(images)
    batches = (n + BATCH - 1) // BATCH
    logged = []
    for batch_idx in range(batches):
        stop.check()
        start = batch_idx * BATCH
        data, target = images[start:start + BATCH], labels[start:start + BATCH]
        optimizer.zero_grad()
        loss = F.nll_loss(net(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % LOG_EVERY == 0:
            value = loss.item()
            check_finite(value, f'epoch {epoch}, batch {batch_idx}')
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), n, 100. * batch_idx / batches, value),
                flush=True)
            logged.append((batch_idx, batch_idx * len(data), value))
    return logged


def check_finite(loss, where):
    """A loss that is no longer a number means training diverged: say so, do not go on
    reporting chance-level accuracy as a result."""
    if not math.isfinite(loss):
        raise UserError(f"training diverged at {where} (the loss is {loss}); lower --lr "
                        f"or --mom")


@torch.no_grad()
def evaluate(net, images, labels, predictions=False):
    """(summed NLL loss, number correct, 10x10 confusion counts as float64 numpy).

    With `predictions`, a fourth item: every image's predicted class, (N,) int64 numpy
    (the argmax the confusion counts are made of, so it costs one copy).
    """
    net.eval()
    loss_sum, correct = 0.0, 0
    pairs = torch.zeros(100, dtype=torch.int64, device=labels.device)
    predicted = []
    for start in range(0, len(images), TEST_BATCH):
        data, target = images[start:start + TEST_BATCH], labels[start:start + TEST_BATCH]
        output = net(data)
        loss_sum += F.nll_loss(output, target, reduction='sum').item()
        pred = output.argmax(dim=1)
        correct += int((pred == target).sum())
        pairs += torch.bincount(target * 10 + pred, minlength=100)
        predicted.append(pred)
    result = (loss_sum, correct, pairs.view(10, 10).cpu().numpy().astype(np.float64))
    if predictions:
        return result + (torch.cat(predicted).cpu().numpy(),)
    return result


def print_test(loss_sum, correct, confusion, n):
    """The original's test printout: the matrix's type, the matrix, the summary line.

    Written in one piece, so a Ctrl-C cannot cut the block between its lines.
    """
    with np.printoptions(precision=4, suppress=True):
        matrix = str(confusion)
    summary = 'Test set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)'.format(
        loss_sum / n, correct, n, 100. * correct / n)
    sys.stdout.write(f'{type(confusion)}\n{matrix}\n\n{summary}\n\n')
    sys.stdout.flush()
