"""Part 3's training run: seq_train.py's flow after its flags are checked.

Prints what is trained, a check example every 1000 examples, the verdict against the
language's criterion (and for --restarts every run's, saving the best under the plain
name), and writes the checkpoints and the run record.
"""
import os

from nnlab.cli import Interrupted, stop
from nnlab.files import (
    OutputLock,
    check_writable_file,
    ensure_dir,
    matching,
    move_aside,
    probe_temporary,
)
from nnlab.records import RunRecord
from nnlab.recurrent import checkpoint, languages
from nnlab.recurrent.trainer import CHECK_EVERY, VERDICT_CHECKS, Config, Trainer, timed
from nnlab.recurrent.writer import CheckpointWriter
from nnlab.seeds import repeat_command

__all__ = ['Config', 'run']


def describe(config, lang):
    name = f"{config.lang}{' (embedded)' if config.embed else ''}"
    extra = f", length {lang.length}" if hasattr(lang, 'length') else ''
    last = config.seed + config.restarts - 1
    runs = (f", {config.restarts} runs (seeds {config.seed}..{last})"
            if config.restarts > 1 else f", seed {config.seed}")
    mom = f" mom {config.mom}" if config.optim == 'sgd' and config.mom else ''
    return (f"training {config.model.upper()} with {config.hid} hidden units on {name}{extra}: "
            f"{config.epoch * 1000:,} examples, {config.optim} lr {config.lr}{mom} "
            f"weight decay {config.weight_decay}{runs}")


def seed_line(config):
    """The first line when the seed was drawn: which one, and how to repeat the run."""
    return (f"seed {config.seed} (drawn for this run; repeat it with: "
            f"{repeat_command(config.seed)})")


def report_single(trainer, examples, hidden, probs):
    trainer.lang.print_outputs(trainer.step, examples[0], hidden[0], probs[0])


def report_runs(trainer, examples, hidden, probs):
    values = ' '.join(f'{c[-1]:.4f}' for c in trainer.checks)
    print(f'epoch: {trainer.step} {trainer.spec.metric}: {values}', flush=True)


def print_verdicts(trainer, config):
    spec, name = trainer.spec, f"{config.lang}{' (embedded)' if config.embed else ''}"
    if trainer.K == 1:
        met, used, _ = trainer.verdict(0)
        print(f"{name}: {spec.criterion_text(used)}: {'yes' if met else 'no'}")
        if not met:
            print("training stuck (it sometimes does): run it again without --seed, or "
                  "train 8 runs at once with --restarts 8")
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
    best_path = checkpoint.checkpoint_path(config.out_path, config.lang, config.model,
                                           config.hid, trainer.step / 1000, config.embed, best)
    plain = checkpoint.checkpoint_path(config.out_path, config.lang, config.model, config.hid,
                                       trainer.step / 1000, config.embed)
    trainer.save_run(best, plain)
    print(f"best: run {best} (seed {trainer.seeds[best]}), mean {spec.metric} of the last "
          f"{results[best][1]} checks {results[best][2]:.4f}: {best_path} "
          f"(also saved as {plain})")
    if not winners:
        print(f"no run met the criterion: try more runs (--restarts {2 * trainer.K}) or "
              f"another --seed")


def record_path(config):
    name = checkpoint.stem(config.lang, config.model, config.hid, config.embed)
    return config.summary or os.path.join(config.out_path, f"{name}_run.json")


def earlier_files(config):
    """The checkpoints and record an earlier run of the same language, model and size
    left in --out_path (a new run moves them aside instead of mixing with them)."""
    name = checkpoint.stem(config.lang, config.model, config.hid, config.embed)
    found = [p for p in matching(config.out_path, f'{name}_*.pth')
             if checkpoint.is_checkpoint_name(os.path.basename(p), name)]
    return found + matching(config.out_path, f'{name}_run.json')


def curve_path(config):
    name = checkpoint.stem(config.lang, config.model, config.hid, config.embed)
    return os.path.join(config.plot_dir, f"{name}_loss.jpg")


def draw_curve(trainer, config):
    """The metric at every check, one line per run, the threshold drawn: how it went."""
    from nnlab.plotting import save_figure
    from nnlab.recurrent.views import loss_curve
    spec = trainer.spec
    verdicts = [trainer.verdict(k) for k in range(trainer.K)]
    best = min(range(trainer.K), key=lambda k: verdicts[k][2])
    labels = [f"seed {seed}" if trainer.K == 1 else f"run {k} (seed {seed})"
              for k, seed in enumerate(trainer.seeds)]
    name = checkpoint.stem(config.lang, config.model, config.hid, config.embed)
    fig = loss_curve(trainer.checks, CHECK_EVERY, spec.threshold, spec.metric,
                     title=f"{name}: {spec.metric} at each check", labels=labels,
                     consistently=spec.consistently, best=best, window=VERDICT_CHECKS)
    return save_figure(fig, curve_path(config))


def fill_record(record, trainer):
    runs = []
    for k in range(trainer.K):
        met, used, mean = trainer.verdict(k)
        runs.append(dict(seed=trainer.seeds[k], checks=[float(c) for c in trainer.checks[k]],
                         success=bool(met), mean_last_checks=mean, checks_used=used))
    record.results.update(metric=trainer.spec.metric, threshold=trainer.spec.threshold,
                          criterion=trainer.spec.criterion_text(used), step=trainer.step,
                          runs=runs, checkpoints=list(trainer.saved))


def run(config):
    """seq_train.py's work; one run at a time writes a language/model/size's checkpoints."""
    stop.check()                             # a Ctrl-C while torch loaded: stop here
    name = checkpoint.stem(config.lang, config.model, config.hid, config.embed)
    with OutputLock(ensure_dir(config.out_path), name, f'the {name} checkpoints'):
        return _run(config)


def _run(config):
    spec = languages.get_spec(config.lang)
    lang = spec.make(embed=config.embed, length=config.length)
    probe_temporary(ensure_dir(config.out_path), record_path(config))
    probe_temporary(ensure_dir(config.plot_dir), curve_path(config))
    if config.summary is not None:
        check_writable_file(config.summary, '--summary')
    if config.seed_drawn:
        print(seed_line(config), flush=True)
    move_aside(earlier_files(config), config.out_path, 'same language, model and size')
    with CheckpointWriter() as writer:
        return _train(spec, lang, config, writer)


def _train(spec, lang, config, writer):
    trainer = Trainer(spec, lang, config, save=writer.save)
    record = RunRecord('seq_train.py', config, trainer.seeds, config.seed_drawn)
    print(describe(config, lang), flush=True)
    report = report_single if config.restarts == 1 else report_runs
    try:
        _, seconds = timed(trainer.train, config.epoch * 1000, report)
    except Interrupted:
        if trainer.step == 0:
            print("interrupted before the first step: nothing to save")
        else:
            paths = trainer.save_all(interrupted=True)
            where = paths[0] if len(paths) == 1 else f"{paths[0]} ... {paths[-1]}"
            print(f"interrupted at step {trainer.step}: saved {where}", flush=True)
        writer.finish()                      # the checkpoints are on disk before the record
        fill_record(record, trainer)
        record.write(record_path(config), 'interrupted')
        raise
    print_verdicts(trainer, config)
    curve = draw_curve(trainer, config)
    print(f"training curve: {curve}")
    fill_record(record, trainer)
    record.results['pictures'] = [curve]
    record.results['seconds_training'] = seconds
    writer.finish()
    record.write(record_path(config), 'finished')
    steps = trainer.step * trainer.K
    where = (f"last checkpoint {os.path.basename(trainer.saved[-1])}" if trainer.K == 1
             else "checkpoints of every run")
    print(f"trained {steps:,} examples in {seconds:.1f} s "
          f"({1000 * seconds / steps:.3f} ms per example); {where} in {config.out_path}")
    return 0
