"""Benchmark Part 2: K restarts trained as one batched run vs K runs of a plain loop.

    python3 -m bench.bench_check                 # K=32, 1000 epochs each: times, ratio
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
import statistics
import time

import torch
import torch.nn.functional as F
from common import CliParser, nonneg_float, positive_int, run_cli

from check import MLP, accuracy
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
    t0 = time.perf_counter()
    result = train_restarts(starts, inputs, targets, lr=args.lr, epochs=args.epochs,
                            log=lambda line: None)
    t_batched = time.perf_counter() - t0
    gap = max((p[name] - r.weights[name]).abs().max().item()
              for p, r in zip(plain, result.restarts) for name in p)
    print(f"plain loop, {args.restarts} runs x {args.epochs} epochs:  {t_plain:8.2f} s")
    print(f"batched,  --restarts {args.restarts}, {args.epochs} epochs: {t_batched:8.2f} s")
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


def main(argv=None):
    parser = CliParser(description="Batched restarts vs a plain loop, for Part 2.")
    parser.add_argument('--restarts', type=positive_int, default=32)
    parser.add_argument('--epochs', type=positive_int, default=None,
                        help='epochs (default 1000; with --share 200000, as check_main.py)')
    parser.add_argument('--hid', type=positive_int, default=5)
    parser.add_argument('--init', type=nonneg_float, default=0.15)
    parser.add_argument('--lr', type=nonneg_float, default=0.001)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--share', type=positive_int, metavar='N', default=None,
                        help='measure the share of N seeds reaching 100%% instead')
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    inputs, targets = load_points()
    if args.share:
        args.epochs = args.epochs or 200000
        share(args, inputs, targets)
    else:
        args.epochs = args.epochs or 1000
        speed(args, inputs, targets)


if __name__ == '__main__':
    run_cli(main)
