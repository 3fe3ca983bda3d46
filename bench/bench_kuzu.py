"""Speed of our KMNIST pipeline against the course's original way, same net, same run.

For each net: one training epoch over --count images (the available training images
repeated in order, since speed depends on the count, not the content) plus the test
pass, timed from reading the files to the last test batch.

- reference: the original script's way: a torchvision KMNIST dataset with per-sample
  ToTensor + Normalize, DataLoader batches of 64 for training and testing, sklearn's
  confusion matrix per test batch, torch's default thread count and memory layout.
- ours: nnlab.kmnist.data/train as kuzu_main.py uses them (tensors in memory, normalised
  once, batches sliced, test in large batches, per-net thread count and memory layout).

    python3 -m bench.bench_kuzu --data ../shared/data              # lin, full, conv
    python3 -m bench.bench_kuzu --data ../shared/data --full_run   # + the 10-epoch conv run
    python3 -m bench.bench_kuzu --data ../shared/data --threads    # + 1 thread vs all cores
"""
import contextlib
import copy
import io
import os
import time

# kuzu_main.py sleeps idle OpenMP threads instead of spinning (see there); both pipelines
# here run under that same setting, so the ratio measures the pipelines alone.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np
import torch
import torch.nn.functional as F

from bench import run_timed
from nnlab import ROOT, arguments
from nnlab.child import python_script
from nnlab.cli import run_cli
from nnlab.kmnist.data import default_root, load_split, usable_root
from nnlab.kmnist.nets import make_net, runs_channels_last
from nnlab.kmnist.train import evaluate, prepare, print_test, threads_for, train_epoch
from nnlab.seeds import set_seed


def reference_run(net, root, count):
    """One epoch + test pass written the way the course's kuzu_main.py does it."""
    from sklearn import metrics
    from torchvision import datasets, transforms
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_set = datasets.KMNIST(root=root, train=True, download=False, transform=transform)
    test_set = datasets.KMNIST(root=root, train=False, download=False, transform=transform)
    train_set = torch.utils.data.Subset(train_set, [i % len(train_set) for i in range(count)])
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=False)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=64, shuffle=False)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)

    net.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = F.nll_loss(net(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % 100 == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                1, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
    net.eval()
    test_loss, correct, conf_matrix = 0, 0, np.zeros((10, 10))
    with torch.no_grad():
        for data, target in test_loader:
            output = net(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
            conf_matrix = conf_matrix + metrics.confusion_matrix(
                target.cpu(), pred.cpu(), labels=list(range(10)))
    print_test(test_loss, correct, conf_matrix, len(test_loader.dataset))
    return correct


def our_run(net, net_name, root, count, threads=None):
    """The same work through kuzu_main.py's pipeline (`threads` overrides its choice)."""
    train_x, train_y = load_split(root, 'train')
    test_x, test_y = load_split(root, 'test')
    order = torch.arange(count) % len(train_x)
    train_x, train_y = train_x[order], train_y[order]
    torch.set_num_threads(threads or threads_for(net_name))
    net, (train_x, test_x) = prepare(net, [train_x, test_x],
                                     runs_channels_last(net, train_x))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    train_epoch(net, optimizer, train_x, train_y, 1)
    loss_sum, correct, confusion = evaluate(net, test_x, test_y)
    print_test(loss_sum, correct, confusion, len(test_y))
    return correct


def timed(run, *args):
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):   # both print the course's lines
        correct = run(*args)
    return time.perf_counter() - start, correct


def full_run(root):
    """Wall time of the default conv job, 10 epochs of 60,000 images, as a user runs it."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        seconds, out = run_timed(python_script(
            os.path.join(ROOT, 'kuzu_main.py'),
            ['--net', 'conv', '--data', root, '--plot_dir', tmp, '--train_count', '60000']))
    accuracy = [line for line in out.splitlines() if line.startswith('Test set:')][-1]
    return seconds, accuracy


def build_parser():
    parser = arguments.CliParser(description='our KMNIST pipeline vs the original way, per net')
    parser.add_argument('--nets', default='lin,full,conv', help='comma list (default all)')
    parser.add_argument('--data', default=None,
                        help='folder holding KMNIST/raw (default: as kuzu_main.py: '
                             '$KUZU_DATA or ./data, downloaded when missing; offline, the '
                             'shared copy beside the checkout)')
    parser.add_argument('--count', type=arguments.whole(1, 1_000_000, 'images in memory'),
                        default=60000,
                        help='training images per epoch (default 60000)')
    parser.add_argument('--seed', type=arguments.seed, default=1)
    parser.add_argument('--full_run', action='store_true',
                        help='also time `kuzu_main.py --net conv` on 10 epochs of 60,000')
    parser.add_argument('--threads', action='store_true',
                        help='also time our pipeline with 1 thread and with every core')
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    nets = args.nets.split(',')
    for name in nets:
        if name not in ('lin', 'full', 'conv'):
            parser.error(f'unknown net {name!r} in --nets (use lin, full, conv)')
    args.data = usable_root(args.data or default_root(), fallback=args.data is None)
    default_threads = torch.get_num_threads()

    print(f'one epoch of {args.count} training images + the 10,000-image test pass; '
          f'{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}')
    for name in nets:
        set_seed(args.seed)
        net = make_net(name)
        torch.set_num_threads(default_threads)
        ref_time, ref_correct = timed(reference_run, copy.deepcopy(net), args.data, args.count)
        our_time, our_correct = timed(our_run, copy.deepcopy(net), name, args.data, args.count)
        torch.set_num_threads(default_threads)
        print(f'{name:5s} reference {ref_time:7.2f} s   ours {our_time:7.2f} s   '
              f'ratio {ref_time / our_time:5.2f}x   (test correct: {ref_correct} vs '
              f'{our_correct})', flush=True)
    if args.threads:   # the evidence behind nnlab.kmnist.train.threads_for
        for name in nets:
            set_seed(args.seed)
            net = make_net(name)
            times = [timed(our_run, copy.deepcopy(net), name, args.data, args.count, n)[0]
                     for n in (1, default_threads)]
            torch.set_num_threads(default_threads)
            print(f'{name:5s} ours with 1 thread {times[0]:7.2f} s   with {default_threads} '
                  f'threads {times[1]:7.2f} s   (kuzu_main uses {threads_for(name)})', flush=True)
    if args.full_run:
        seconds, accuracy = full_run(args.data)
        print(f'full run: kuzu_main.py --net conv --train_count 60000 (10 epochs): '
              f'{seconds:.1f} s; last line: {accuracy}')


if __name__ == '__main__':
    run_cli(main)
