"""Benchmark: what a sweep costs over the plain runs, locally and through SLURM.

    python3 -m bench.bench_sweep                       # the full figures (slow: ~40 min
                                                       #   on 2 cores)
    python3 -m bench.bench_sweep --seeds 64 --pairs 1  # a quick look

1. SLURM against local: `sweep.py --backend slurm` of N anb2n seeds (the defaults) against
   the same local sweep, in pairs run one after the other (alternating which goes first);
   the median ratio of the pairs. Needs a SLURM (sudo .ci/slurm-start); skipped with one
   line without sbatch.
2. Local sweep against plain runs: the local sweep of 64 seeds (--jobs 2) against four
   `seq_train.py --lang anb2n --restarts 16` runs of the same seeds, two at a time.

Wall times of whole commands (their Python start-ups included), from one machine.
"""
import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nnlab import ROOT
from nnlab.child import Child

SCRIPT = ['--', 'seq_train.py', '--lang', 'anb2n']


def timed(argv, parallel=1):
    """Seconds for the commands in `argv` (a list of argv lists), `parallel` at a time."""
    started, waiting, running = time.monotonic(), list(argv), []
    try:
        while waiting or running:
            while waiting and len(running) < parallel:
                running.append(Child(waiting.pop(0), cwd=ROOT).start())
            for child in list(running):
                code = child.poll()
                if code is not None:
                    if code not in (0, 1):                # 1: some runs failed the criterion
                        raise SystemExit(f"error: {' '.join(child.argv)} exited {code}")
                    running.remove(child)
            time.sleep(0.1)
    finally:                    # children run in sessions of their own: Ctrl-C misses them
        for child in running:
            child.stop_and_wait()
    return time.monotonic() - started


def sweep(folder, seeds, *flags):
    return [sys.executable, str(ROOT / 'sweep.py'), '--seeds', f'0-{seeds - 1}', '--out',
            str(folder), *flags, *SCRIPT]


def slurm_against_local(work, seeds, pairs):
    if shutil.which('sbatch') is None:
        print("SLURM against local: skipped (no sbatch on the PATH; sudo .ci/slurm-start)")
        return
    ratios = []
    for pair in range(pairs):
        runs = {}
        order = ('local', 'slurm') if pair % 2 == 0 else ('slurm', 'local')
        for backend in order:
            folder = work / f'{backend}-{pair}'
            runs[backend] = timed([sweep(folder, seeds, '--backend', backend)])
        ratios.append(runs['slurm'] / runs['local'])
        print(f"pair {pair + 1}: local {runs['local']:.1f} s, slurm {runs['slurm']:.1f} s, "
              f"ratio {ratios[-1]:.2f}", flush=True)
    print(f"SLURM against local, {seeds} seeds: median ratio {statistics.median(ratios):.2f} "
          f"over {pairs} pair(s) (target: at most 1.5)")


def local_against_plain_runs(work, pairs):
    ratios = []
    for pair in range(pairs):
        swept = timed([sweep(work / f'plain-sweep-{pair}', 64, '--jobs', '2')])
        plain = [[sys.executable, str(ROOT / 'seq_train.py'), '--lang', 'anb2n', '--seed',
                  str(first), '--restarts', '16', '--out_path',
                  str(work / f'plain-{pair}-{first}'), '--plot_dir',
                  str(work / f'plain-{pair}-{first}')] for first in (0, 16, 32, 48)]
        for argv in plain:
            Path(argv[-1]).mkdir(parents=True)
        runs = timed(plain, parallel=2)
        ratios.append(swept / runs)
        print(f"pair {pair + 1}: sweep {swept:.1f} s, four --restarts 16 runs {runs:.1f} s, "
              f"ratio {ratios[-1]:.2f}", flush=True)
    print(f"local sweep of 64 seeds against four --restarts 16 runs: median ratio "
          f"{statistics.median(ratios):.2f} over {pairs} pair(s) (target: at most 1.25)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, default=256, help='seeds of the SLURM sweep')
    parser.add_argument('--pairs', type=int, default=3, help='paired runs (the median)')
    parser.add_argument('--only', choices=('slurm', 'local'), default=None,
                        help='only one of the two comparisons')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='bench-sweep-', dir=ROOT) as work:
        # Under the checkout, not /tmp: a real cluster's nodes see the checkout.
        if args.only != 'local':
            slurm_against_local(Path(work), args.seeds, args.pairs)
        if args.only != 'slurm':
            local_against_plain_runs(Path(work), args.pairs)


if __name__ == '__main__':
    main()
