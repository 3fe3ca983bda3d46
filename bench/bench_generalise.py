"""Benchmark: the generalisation rule (nnlab/recurrent/generalise.py) as seq_plot.py
--generalise and seq_train.py use it.

    python3 -m bench.bench_generalise            # --rounds 1: each figure once (quick)

The targets (docs/benchmarks.md): N = 100 on an anb2nc3n LSTM under 1 s (seq_plot, the picture
excluded), and under 0.3 s per run added to seq_train.py (all runs of --restarts in one
pass). Weights are random: the cost does not depend on what the network predicts. Each
figure is the fastest of a few rounds.
"""
import argparse
import time

import numpy as np

from nnlab.recurrent import generalise, kernels, languages


def fastest(fn, *args, rounds=5):
    best = np.inf
    for _ in range(rounds):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description='the generalisation rule, timed')
    parser.add_argument('--rounds', type=int, default=5, help='rounds per figure (default 5)')
    rounds = max(1, parser.parse_args(argv).rounds)
    print(f"{'language':9} {'model':5} {'hid':>3} {'runs':>4} {'N':>4}  {'seconds':>8}  "
          f"{'per run':>8}")
    for lang, model, hid in (('anb2n', 'srn', 2), ('anbncn', 'srn', 3),
                             ('anb2nc3n', 'lstm', 3), ('anb2nc3n', 'gru', 3)):
        spec = languages.get_spec(lang)
        layout = kernels.Layout(model, 1 + len(spec.multiples), hid)
        for runs in (1, 16, 64):
            theta = np.stack([kernels.initial_weights(layout, None, seed)
                              for seed in range(runs)])
            seconds = fastest(generalise.evaluate, model, layout, theta, spec.multiples,
                              100, rounds=rounds)
            print(f"{lang:9} {model:5} {hid:>3} {runs:>4} {100:>4}  {seconds:>8.3f}  "
                  f"{seconds / runs:>8.4f}")


if __name__ == '__main__':
    main()
