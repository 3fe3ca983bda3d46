"""Train a recurrent network (SRN, LSTM, GRU) to predict the next symbol of a formal language.

    python3 seq_train.py --lang anb2n
    python3 seq_train.py --lang anb2nc3n --model lstm --hid 3
    python3 seq_train.py --lang anb2n --restarts 16      # 16 runs at once, names the best

One optimiser step per generated example (loss: mean NLL of the actual next symbols).
Every 1000 examples a fresh example's outputs are printed; every 10,000 the weights are
saved as {out_path}/{lang}_{model}{hid}_{thousands}.pth. Unset flags take the language's
defaults (see README). Ctrl-C saves the current step and stops.
"""
import argparse
import os

import seq_args
import seq_lang
from common import UserError, ensure_dir, nonneg_float, positive_int, run_cli, set_seed

# torch (slow to import) is loaded in main() after the flags are checked, so a typo fails
# at once.


def positive_float(text):
    value = nonneg_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def parse_args(argv=None):
    parser = seq_args.make_parser(__doc__.split('\n')[0])
    seq_args.add_language_args(parser)
    seq_args.add_model_args(parser)
    group = parser.add_argument_group('training (unset: the language default)')
    group.add_argument('--optim', choices=('sgd', 'adam'), default=None, help='optimiser')
    group.add_argument('--lr', type=positive_float, default=None, help='learning rate')
    group.add_argument('--mom', type=nonneg_float, default=None,
                       help='SGD momentum (default 0, as the course)')
    group.add_argument('--weight_decay', type=nonneg_float, default=None,
                       help='weight decay, added to the gradient as torch.optim does')
    group.add_argument('--init', type=positive_float, default=None,
                       help='std of the normal initial weights (SRN default 0.3; LSTM/GRU '
                            'use uniform +-1/sqrt(hid) unless given)')
    group.add_argument('--epoch', type=positive_int, default=None,
                       help='thousands of training examples')
    group.add_argument('--restarts', type=positive_int, default=1,
                       help='train this many independent runs at once (seeds seed..seed+K-1)')
    seq_args.add_common_args(parser)
    args = seq_args.resolve_defaults(parser.parse_args(argv))
    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more, got {args.seed}")
    return args


def describe(args, lang):
    name = f"{args.lang}{' (embedded)' if args.embed else ''}"
    extra = f", length {lang.length}" if hasattr(lang, 'length') else ''
    runs = f", {args.restarts} runs (seeds {args.seed}..{args.seed + args.restarts - 1})" \
        if args.restarts > 1 else f", seed {args.seed}"
    mom = f" mom {args.mom}" if args.optim == 'sgd' and args.mom else ''
    return (f"training {args.model.upper()} with {args.hid} hidden units on {name}{extra}: "
            f"{args.epoch * 1000:,} examples, {args.optim} lr {args.lr}{mom} "
            f"weight decay {args.weight_decay}{runs}")


def report_single(trainer, examples, hidden, probs):
    trainer.lang.print_outputs(trainer.step, examples[0], hidden[0], probs[0])


def report_runs(trainer, examples, hidden, probs):
    values = ' '.join(f'{c[-1]:.4f}' for c in trainer.checks)
    print(f'epoch: {trainer.step} {trainer.spec.metric}: {values}', flush=True)


def print_verdicts(trainer, args):
    import seq_checkpoint
    spec, name = trainer.spec, f"{args.lang}{' (embedded)' if args.embed else ''}"
    if trainer.K == 1:
        met, used, _ = trainer.verdict(0)
        print(f"{name}: {spec.criterion_text(used)}: {'yes' if met else 'no'}")
        return
    results = [trainer.verdict(k) for k in range(trainer.K)]
    for k, (met, used, mean) in enumerate(results):
        print(f"run {k:2d} (seed {trainer.seeds[k]}): {spec.criterion_text(used)}: "
              f"{'yes' if met else 'no '} (mean {mean:.4f})")
    winners = [k for k, (met, _, _) in enumerate(results) if met]
    listed = ', '.join(map(str, winners)) or 'none'
    print(f"{name}: {len(winners)} of {trainer.K} runs met the criterion "
          f"({spec.criterion_text(results[0][1])}): runs {listed}")
    best = min(range(trainer.K), key=lambda k: results[k][2])
    best_path = seq_checkpoint.checkpoint_path(args.out_path, args.lang, args.model, args.hid,
                                               trainer.step / 1000, args.embed, best)
    plain = seq_checkpoint.checkpoint_path(args.out_path, args.lang, args.model, args.hid,
                                           trainer.step / 1000, args.embed)
    seq_checkpoint.save(plain, trainer.model_of(best), trainer.meta(best))
    print(f"best: run {best} (seed {trainer.seeds[best]}), mean {spec.metric} of the last "
          f"{results[best][1]} checks {results[best][2]:.4f}: {best_path} "
          f"(also saved as {plain})")


def main(argv=None):
    args = parse_args(argv)
    import torch
    from seq_trainer import StopRequested, Trainer, timed
    set_seed(args.seed)
    torch.set_num_threads(1)
    spec = seq_lang.get_spec(args.lang)
    lang = spec.make(embed=args.embed, length=args.length)
    ensure_dir(args.out_path)
    trainer = Trainer(spec, lang, args)
    print(describe(args, lang), flush=True)
    report = report_single if args.restarts == 1 else report_runs
    try:
        _, seconds = timed(trainer.train, args.epoch * 1000, report)
    except StopRequested:
        if trainer.step == 0:
            print("interrupted before the first step: nothing to save")
        else:
            paths = trainer.save_all(interrupted=True)
            where = paths[0] if len(paths) == 1 else f"{paths[0]} ... {paths[-1]}"
            print(f"interrupted at step {trainer.step}: saved {where}", flush=True)
        raise KeyboardInterrupt
    print_verdicts(trainer, args)
    steps = trainer.step * trainer.K
    where = (f"last checkpoint {os.path.basename(trainer.saved[-1])}" if trainer.K == 1
             else "checkpoints of every run")
    print(f"trained {steps:,} examples in {seconds:.1f} s "
          f"({1000 * seconds / steps:.3f} ms per example); {where} in {args.out_path}")


if __name__ == '__main__':
    run_cli(main)
