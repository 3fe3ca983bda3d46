"""Part 3's training run: seq_train.py's flow after its flags are checked.

Prints what is trained, a check example every 1000 examples, the verdict against the
language's criterion (and for --restarts every run's, saving the best under the plain
name), and writes the checkpoints, the training curve and the run record.
"""
import os
import time

from nnlab import engine
from nnlab.cli import Interrupted, stop
from nnlab.files import matching
from nnlab.formats import seq_run
from nnlab.formats.seq_run import SeqOutcome, SeqResults, SeqRun
from nnlab.outputs import Plan, RunWriter
from nnlab.recurrent import checkpoint, generalise, generalise_text, languages
from nnlab.recurrent.languages import MODEL_CLASSES
from nnlab.recurrent.parameters import Layout
from nnlab.recurrent.trainer import CHECK_EVERY, VERDICT_CHECKS, Config, Trainer
from nnlab.recurrent.writer import CheckpointWriter
from nnlab.seeds import repeat_command

__all__ = ['Config', 'run']


class SeqTrainOutputs(Plan):
    """Everything a seq_train.py run writes: checkpoints, the curve, the run record."""

    def __init__(self, config):
        self.config = config
        self.name = checkpoint.stem(config.lang, config.model, config.hid, config.embed)
        announce = (lambda: print(seed_line(config), flush=True)) if config.seed_drawn \
            else None
        super().__init__(config.out_path, self.name, f'the {self.name} checkpoints', announce)
        self.folder(config.out_path)
        self.curve = self.file(os.path.join(config.plot_dir, f"{self.name}_loss.jpg"))
        self.record = self.chosen(config.summary, '--summary',
                                  seq_run.record_path(config.out_path, self.name))
        self.set_aside(self.earlier_files, config.out_path, 'same language, model and size')

    def checkpoint(self, thousands, run=None):
        c = self.config
        return checkpoint.checkpoint_path(c.out_path, c.lang, c.model, c.hid, thousands,
                                          c.embed, run)

    def earlier_files(self):
        """The checkpoints and record an earlier run of the same language, model and size
        left in --out_path (a new run moves them aside instead of mixing with them)."""
        found = [p for p in matching(self.config.out_path, f'{self.name}_*.pth')
                 if checkpoint.is_checkpoint_name(os.path.basename(p), self.name)]
        record = seq_run.record_path(self.config.out_path, self.name)
        return found + ([record] if os.path.isfile(record) else [])


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


def print_check(trainer, examples, hidden, probs):
    """The course's check printout: the example a single run just predicted."""
    trainer.lang.print_outputs(trainer.step, examples[0], hidden[0], probs[0])


def print_check_of_runs(trainer, examples, hidden, probs):
    """With --restarts, one line per check: every run's error."""
    values = ' '.join(f'{c[-1]:.4f}' for c in trainer.checks)
    print(f'epoch: {trainer.step} {trainer.spec.metric}: {values}', flush=True)


def best_run(trainer):
    """The run with the lowest mean of its last checks."""
    return min(range(trainer.K), key=lambda k: trainer.verdict(k)[2])


def largest_right(trainer):
    """Per run the largest n with every n up to it right (generalise.py), or Nones."""
    found = trainer.generalisation()
    if found is None:
        return [None] * trainer.K
    return [int(k) for k in found.largest_n_right]


def print_verdicts(trainer, config, out):
    spec, name = trainer.spec, f"{config.lang}{' (embedded)' if config.embed else ''}"
    largest = largest_right(trainer)
    beyond = [f", largest n right {k}" if k is not None else '' for k in largest]
    if trainer.K == 1:
        met, used, _ = trainer.verdict(0)
        print(f"{name}: {spec.criterion_text(used)}: {'yes' if met else 'no'}{beyond[0]}")
        found = trainer.generalisation()
        if found is not None:
            print(generalise_text.line(generalise.record(found, 0, trainer.lang.length)))
        if not met:
            print("training stuck (it sometimes does): run it again without --seed, or "
                  "train 8 runs at once with --restarts 8")
        return
    results = [trainer.verdict(k) for k in range(trainer.K)]
    for k, (met, used, mean) in enumerate(results):
        print(f"run {k:2d} (seed {trainer.seeds[k]}): {spec.criterion_text(used)}: "
              f"{'yes' if met else 'no '} (mean {mean:.4f}){beyond[k]}")
    winners = [k for k, (met, _, _) in enumerate(results) if met]
    listed = ', '.join(map(str, winners)) or 'none'
    print(f"{name}: {len(winners)} of {trainer.K} runs met the criterion "
          f"({spec.criterion_text(results[0][1])}): runs {listed}")
    best = best_run(trainer)
    thousands = trainer.step / 1000
    best_path, plain = out.checkpoint(thousands, best), out.checkpoint(thousands)
    trainer.save_run(best, plain)
    print(f"best: run {best} (seed {trainer.seeds[best]}), mean {spec.metric} of the last "
          f"{results[best][1]} checks {results[best][2]:.4f}: {best_path} "
          f"(also saved as {plain})")
    if not winners:
        print(f"no run met the criterion: try more runs (--restarts {2 * trainer.K}) or "
              f"another --seed")


def draw_curve(trainer, out):
    """The metric at every check, one line per run, the threshold drawn: how it went."""
    from nnlab.plotting import save_figure
    from nnlab.recurrent.views import loss_curve
    spec = trainer.spec
    labels = [f"seed {seed}" if trainer.K == 1 else f"run {k} (seed {seed})"
              for k, seed in enumerate(trainer.seeds)]
    fig = loss_curve(trainer.checks, CHECK_EVERY, spec.threshold, spec.metric,
                     title=f"{out.name}: {spec.metric} at each check", labels=labels,
                     consistently=spec.consistently, best=best_run(trainer),
                     window=VERDICT_CHECKS)
    return save_figure(fig, out.curve)


def fill_record(results, trainer):
    results.runs = []
    largest = largest_right(trainer)
    for k in range(trainer.K):
        met, used, mean = trainer.verdict(k)
        results.runs.append(SeqOutcome(trainer.seeds[k], [float(c) for c in trainer.checks[k]],
                                       bool(met), mean, used, largest[k]))
        results.criterion = trainer.spec.criterion_text(used)
    results.step = trainer.step
    if largest[0] is not None:
        results.checked_n, results.trained_n = generalise.DEFAULT_N, trainer.lang.length
    results.best = best_run(trainer) if trainer.K > 1 and trainer.step else None
    results.checkpoints = list(trainer.saved)


def run(config, writer=None):
    """seq_train.py's work; one run at a time writes a language/model/size's checkpoints
    (through `writer`, a started CheckpointWriter, or one of its own)."""
    stop.check()                             # a Ctrl-C while the modules loaded: stop here
    spec = languages.get_spec(config.lang)
    lang = spec.make(embed=config.embed, length=config.length)
    choice = choose_engine(config, lang)     # before anything is written or moved
    with SeqTrainOutputs(config) as out:
        if writer is not None:
            return _train(spec, lang, config, out, writer, choice)
        with CheckpointWriter() as own:
            return _train(spec, lang, config, out, own, choice)


def choose_engine(config, lang):
    """Which engine trains seq_models.py's model (nnlab/engine.py). The shipped model
    needs no torch: the probe (and torch) loads only for an edited one."""
    def probe():
        from nnlab.recurrent import autograd
        return autograd.probe(config.model, Layout(config.model, lang.num_symbols, config.hid),
                              lang)
    return engine.choose(config.engine, 'seq_models', MODEL_CLASSES[config.model], probe)


def _train(spec, lang, config, out, writer, choice):
    trainer = Trainer(spec, lang, config, save=writer.save, checkpoint_path=out.checkpoint,
                      choice=choice)
    record = RunWriter(SeqRun, config, SeqResults(metric=spec.metric, threshold=spec.threshold),
                       trainer.seeds, config.seed_drawn)
    record.results.engine, record.results.fingerprint = choice.engine, choice.fingerprint
    print(describe(config, lang), flush=True)
    if choice.note:
        print(f"note: {choice.note}", flush=True)
    show = print_check if config.restarts == 1 else print_check_of_runs
    started = time.perf_counter()
    try:
        trainer.train(config.epoch * 1000, show)
    except Interrupted:
        if trainer.step == 0:
            print("interrupted before the first step: nothing to save")
        else:
            paths = trainer.save_all(interrupted=True)
            where = paths[0] if len(paths) == 1 else f"{paths[0]} ... {paths[-1]}"
            print(f"interrupted at step {trainer.step}: saved {where}", flush=True)
        writer.finish()                      # the checkpoints are on disk before the record
        fill_record(record.results, trainer)
        record.write(out.record, 'interrupted')
        raise
    seconds = time.perf_counter() - started
    print_verdicts(trainer, config, out)
    curve = draw_curve(trainer, out)
    print(f"training curve: {curve}")
    fill_record(record.results, trainer)
    record.results.pictures = [curve]
    record.results.seconds_training = seconds
    writer.finish()
    record.write(out.record, 'finished')
    steps = trainer.step * trainer.K
    where = (f"last checkpoint {os.path.basename(trainer.saved[-1])}" if trainer.K == 1
             else "checkpoints of every run")
    print(f"trained {steps:,} examples in {seconds:.1f} s "
          f"({1000 * seconds / steps:.3f} ms per example); {where} in {config.out_path}")
    return 0
