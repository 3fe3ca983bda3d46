"""Benchmark Part 2: K restarts trained by the compiled kernel vs K runs of a plain loop.

    python3 -m bench.bench_check                 # K=32, 1000 epochs each: times, ratio
    python3 -m bench.bench_check --commands      # check_main.py end to end, pictures
    python3 -m bench.bench_check --share 256     # share of seeds reaching 100%

The plain loop is written the way the course's script trains one network (nn.Linear
layers, torch.optim.Adam, F.binary_cross_entropy, the 2000-epochs-at-100% stop). Both
start from the same weights (restart i = seed + i), so the bench also prints how far
apart their final weights are.

--share N trains N networks (seeds 0..N-1, the check_main.py defaults, --hid 5) to the
end in one batched run. Restart i is the single run with seed i, so this gives the share
of seeds where `check_main.py --act sig --hid 5 --seed S` reaches 100%; the groups of 8
consecutive seeds (8j..8j+7) are exactly `--restarts 8 --seed 8j`.
"""
import os
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from bench import run_timed
from check import MLP, accuracy
from nnlab import ROOT, arguments
from nnlab.child import python_script
from nnlab.cli import run_cli
from nnlab.perceptron.data import load_points
from nnlab.perceptron.train import STREAK, WEIGHT_DECAY, initial_weights, train_restarts


def plain_run(start, inputs, targets, hid, lr, epochs):
    """One network, trained as the course's loop does it."""
    net = MLP(hid, 'sig')
    net.load_weights(start)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
    count = 0
    for epoch in range(1, epochs + 1):  # noqa: B007 (the last epoch is returned)
        optimizer.zero_grad()
        output = net(inputs)
        loss = F.binary_cross_entropy(output, targets)
        loss.backward()
        optimizer.step()
        count = count + 1 if accuracy(output, targets) == 100.0 else 0
        if count == STREAK:
            break
    return net.get_weights()


def speed(args, inputs, targets):
    starts = [initial_weights(args.hid, args.init, args.seed + i) for i in range(args.restarts)]
    t0 = time.perf_counter()
    plain = [plain_run(s, inputs, targets, args.hid, args.lr, args.epochs) for s in starts]
    t_plain = time.perf_counter() - t0
    train_restarts(starts[:1], inputs, targets, epochs=1, log=lambda line: None)   # loads
    t0 = time.perf_counter()                                          # the compiled code
    result = train_restarts(starts, inputs, targets, lr=args.lr, epochs=args.epochs,
                            log=lambda line: None)
    t_batched = time.perf_counter() - t0
    gap = max((p[name] - r.weights[name]).abs().max().item()
              for p, r in zip(plain, result.restarts) for name in p)
    print(f"plain loop, {args.restarts} runs x {args.epochs} epochs:  {t_plain:8.2f} s")
    print(f"compiled, --restarts {args.restarts}, {args.epochs} epochs: {t_batched:8.2f} s")
    print(f"speed-up: {t_plain / t_batched:.1f}x")
    print(f"largest difference between the two runs' final weights: {gap:.2e}")


def share(args, inputs, targets):
    n = args.share
    starts = [initial_weights(args.hid, args.init, seed) for seed in range(n)]
    t0 = time.perf_counter()
    result = train_restarts(starts, inputs, targets, lr=args.lr, epochs=args.epochs,
                            log=lambda line: None)
    wins = [r for r in result.restarts if r.success]
    print(f"{n} networks (seeds 0..{n - 1}), --hid {args.hid}, --epoch {args.epochs}, "
          f"trained in {time.perf_counter() - t0:.1f} s")
    print(f"single runs reaching 100%: {len(wins)}/{n} = {100 * len(wins) / n:.1f}%")
    if wins:
        reached = [r.perfect_since for r in wins]
        print(f"  epoch of reaching 100% for good: median {statistics.median(reached):.0f}, "
              f"max {max(reached)}")
    failed = [r.index for r in result.restarts if not r.success]
    print(f"  seeds that fail: {failed}")
    groups = [result.restarts[g:g + 8] for g in range(0, n - 7, 8)]
    group_wins = sum(any(r.success for r in g) for g in groups)
    print(f"--restarts 8 (--seed 0, 8, 16, ...) reaching 100%: {group_wins}/{len(groups)} "
          f"= {100 * group_wins / max(len(groups), 1):.1f}%")


def command_seconds(*flags):
    """Wall seconds of `check_main.py FLAGS`, start-up and pictures included."""
    with tempfile.TemporaryDirectory() as folder:
        seconds, _ = run_timed(python_script(os.path.join(ROOT, 'check_main.py'),
                                             [*flags, '--plot_dir', folder]))
    return seconds


def commands(epochs=None):
    """The commands docs/benchmarks.md sets targets for: the course's training command, 8
    restarts, the pictures (`epochs`: at most that many, for a quick check that it runs)."""
    from nnlab.perceptron.plots import plot_units
    shorter = ['--epoch', str(epochs)] if epochs else []
    for flags in (['--act', 'sig', '--hid', '5', '--seed', '0', *shorter],
                  ['--act', 'sig', '--hid', '5', '--seed', '0', '--restarts', '8', *shorter]):
        print(f"check_main.py {' '.join(flags)}: {command_seconds(*flags):.1f} s wall "
              f"(start-up, training, printing and pictures)", flush=True)
    inputs, targets = load_points()
    net = MLP(5, 'sig')
    net.load_weights(initial_weights(5, 0.15, 0))
    with tempfile.TemporaryDirectory() as folder:
        hidden = [os.path.join(folder, f'hid_5_{node}.jpg') for node in range(5)]
        output = os.path.join(folder, 'out_5.jpg')
        plot_units(net, inputs, targets, hidden, output, 'sig, hid 5')   # warm up matplotlib
        start = time.perf_counter()
        paths = plot_units(net, inputs, targets, hidden, output, 'sig, hid 5')
        each = (time.perf_counter() - start) / len(paths)
    print(f"region pictures (hid_5_*.jpg, out_5.jpg): {each:.3f} s each", flush=True)


def build_parser():
    parser = arguments.CliParser(description="Compiled restarts vs a plain loop, for Part 2.")
    count = arguments.whole(1, 4096, 'each plain run takes seconds')
    parser.add_argument('--restarts', type=count, default=32)
    parser.add_argument('--epochs', type=count, default=None,
                        help='epochs (default 1000; with --share 200000, as check_main.py; '
                             'with --commands, check_main.py\'s own)')
    parser.add_argument('--hid', type=count, default=5)
    parser.add_argument('--init', type=arguments.positive, default=0.15)
    parser.add_argument('--lr', type=arguments.learning_rate, default=0.001)
    parser.add_argument('--seed', type=arguments.seed, default=0)
    parser.add_argument('--share', type=count, metavar='N', default=None,
                        help='measure the share of N seeds reaching 100%% instead')
    parser.add_argument('--commands', action='store_true',
                        help='time check_main.py end to end and the pictures instead')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    torch.manual_seed(args.seed)
    inputs, targets = load_points()
    if args.commands:
        commands(args.epochs)
    elif args.share:
        args.epochs = args.epochs or 200000
        share(args, inputs, targets)
    else:
        args.epochs = args.epochs or 1000
        speed(args, inputs, targets)


if __name__ == '__main__':
    run_cli(main)
