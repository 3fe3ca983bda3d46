"""Benchmark: Part 3's training in the explore page (headless Chromium, as the tests drive
it) beside the compiled kernel, for the same number of examples.

    python3 -m bench.bench_explore_train                       # anb2n SRN, 100k examples
    python3 -m bench.bench_explore_train --lang anb2nc3n --model lstm --examples 20000

The page trains as its start button does: in its Web Worker, with the checks, the
snapshots of the hidden states and the redraws (animation on). The kernel's figure is
its warm training time (compiled once before timing) on seq_train's examples, once alone
(kernels.train) and once as seq_train.py's Trainer runs it (examples drawn, checks every
1000). The budget set for the page: within 10x the kernel. Each figure is the fastest
of --rounds rounds, page and kernel taking turns so load from other processes hits both.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nnlab.explore import gather, page
from nnlab.recurrent import kernels, languages
from nnlab.recurrent.trainer import Config, Trainer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'tests'))


def kernel_seconds(lang, model, hid, examples, seed):
    """(kernels.train alone, Trainer with generation and checks), warm."""
    spec = languages.get_spec(lang)
    d = spec.defaults(model)
    language = spec.make()
    layout = kernels.Layout(model, language.num_symbols, hid)
    seq, _, _, lengths = language.sample_arrays(np.random.default_rng(seed), examples)
    starts = np.concatenate([[0], np.cumsum(lengths)])[None]

    def alone():
        theta = kernels.initial_weights(layout, None, seed)[None].copy()
        kernels.train(model, layout, theta, kernels.OptimiserState(1, layout.size), seq,
                      starts, d['optim'], d['lr'], d['mom'], d['weight_decay'])

    def trainer():
        config = Config(lang=lang, model=model, hid=hid, optim=d['optim'], lr=d['lr'],
                        weight_decay=d['weight_decay'], epoch=examples // 1000, seed=seed)
        Trainer(spec, language, config).train(examples, lambda *args: None)

    alone()                                  # compile (or load the cache) first
    return timed(alone), timed(trainer)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--lang', default='anb2n', choices=languages.LANGUAGES)
    parser.add_argument('--model', default='srn', choices=languages.MODELS)
    parser.add_argument('--hid', type=int, default=None)
    parser.add_argument('--examples', type=int, default=None,
                        help="default: seq_train.py's for the language")
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    defaults = languages.get_spec(args.lang).defaults(args.model)
    hid = args.hid or defaults['hid']
    examples = args.examples or defaults['epoch'] * 1000

    from browser import Watched, launch
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        data = gather.gather(folder / 'plot', folder / 'net', folder / 'explore')
        path = page.write(folder / 'explore' / 'index.html', data)
        driver, browser = launch()
        tab = Watched(browser)
        try:
            tab.open(path)
            best_page, best_alone, best_trainer, where = np.inf, np.inf, np.inf, None
            for _ in range(args.rounds):
                got = tab.page.evaluate('options => window.explore.part3.train(options)', dict(
                    lang=args.lang, model=args.model, hid=hid, seed=args.seed,
                    examples=examples))
                best_page, where = min(best_page, got['seconds']), got['where']
                alone, trainer = kernel_seconds(args.lang, args.model, hid, examples, args.seed)
                best_alone, best_trainer = min(best_alone, alone), min(best_trainer, trainer)
        finally:
            tab.close()
            browser.close()
            driver.stop()
    print(f"{args.lang} {args.model.upper()}{hid}, {examples:,} examples: page {best_page:.2f} s "
          f"(in the {where}, animated), kernel {best_alone:.2f} s alone, {best_trainer:.2f} s "
          f"as seq_train's Trainer (examples drawn, checks); page / kernel "
          f"{best_page / best_alone:.1f}x, page / Trainer {best_page / best_trainer:.1f}x")
    return 0


if __name__ == '__main__':
    sys.exit(main())
