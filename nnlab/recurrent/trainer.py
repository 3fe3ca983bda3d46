"""The training loop behind seq_train.py: K independent runs trained side by side.

Run i uses seed `seed + i` for its initial weights, its training examples and its check
examples (three numpy Generators), so run i of `--restarts K` is exactly the single run
`--seed seed+i`. Every step is one optimiser step per run on that run's own
example; the compiled kernels (kernels.py) do the 1000 steps between two checks in one
call, the runs spread over the cores. Every 1000 steps each run is checked on a fresh
example; every 10,000 steps (and at the end) each run's weights are saved.
"""
from dataclasses import asdict

import numpy as np

from nnlab.cli import UserError, stop
from nnlab.engine import Choice
from nnlab.formats.seq_checkpoint import CheckpointMeta
from nnlab.formats.seq_run import SeqConfig
from nnlab.recurrent import generalise, kernels
from nnlab.recurrent.languages import Network

CHECK_EVERY = 1000
SAVE_EVERY = 10000
VERDICT_CHECKS = 10          # the verdict looks at the last 10 checks (LangSpec.meets)


def pack_block(samples):
    """Each run's examples [(flat symbols, lengths)] -> (symbols, starts (K, n + 1)): the
    layout kernels.train reads, example e of run k at symbols[starts[k, e]:starts[k, e+1]]."""
    offsets = np.cumsum([0] + [len(flat) for flat, _ in samples])
    starts = np.stack([offset + np.concatenate([[0], np.cumsum(lengths)])
                       for offset, (_, lengths) in zip(offsets, samples)])
    return np.concatenate([flat for flat, _ in samples]), starts


Config = SeqConfig


class Trainer:
    """K runs of `config` on `lang`. `save(path, kind, num_symbols, hid, weights, meta)`
    writes a checkpoint (writer.CheckpointWriter.save; None: no checkpoints), and
    `checkpoint_path(thousands, run)` names it (the run's output plan)."""

    def __init__(self, spec, lang, config, save=None, checkpoint_path=None, choice=None):
        self.spec, self.lang, self.config, self.save = spec, lang, config, save
        self.checkpoint_path = checkpoint_path
        # which engine trains (nnlab/engine.py); None: the compiled kernel, shipped model
        self.choice = choice or Choice('compiled', None, True)
        self.K = config.restarts
        self.seeds = [config.seed + i for i in range(self.K)]
        self.layout = kernels.Layout(config.model, lang.num_symbols, config.hid)
        if self.choice.same_init:       # numpy draws as the shipped init_weights does
            starts = [kernels.initial_weights(self.layout, config.init, seed)
                      for seed in self.seeds]
        else:                           # the student's own initialisation (torch)
            from nnlab.recurrent import autograd
            starts = [autograd.initial_weights(config.model, self.layout, config.init, seed)
                      for seed in self.seeds]
        self.theta = np.ascontiguousarray(np.stack(starts), dtype=np.float64)
        self.opt = kernels.OptimiserState(self.K, self.layout.size)
        self.autograd = None
        if self.choice.engine == 'torch':
            from nnlab.recurrent import autograd
            self.autograd = autograd.Engine(config.model, self.layout, self.theta, config.optim,
                                            config.lr, config.mom, config.weight_decay)
        self.data_rngs = [np.random.default_rng(s) for s in self.seeds]
        self.check_rngs = [np.random.default_rng([s, 1]) for s in self.seeds]
        self.checks = [[] for _ in range(self.K)]        # metric at each check, per run
        self.final_checks = [[] for _ in range(self.K)]  # embedded Reber: the final: error
        self.step = 0
        self.saved = []                                  # paths written, in order
        self._generalised = None                         # (step, generalise.Outcome)

    # --- the loop -----------------------------------------------------------------
    def train(self, steps, after_check):
        """Train to `steps` examples per run; `after_check(trainer, examples, hidden, probs)`
        is called after each check. A stop request (nnlab.cli.stop) ends it at a block
        boundary (every 1000 steps at most) with Interrupted."""
        c = self.config
        while self.step < steps:
            stop.check()
            block_size = min(CHECK_EVERY - self.step % CHECK_EVERY, steps - self.step)
            samples = [self.lang.sample_arrays(rng, block_size) for rng in self.data_rngs]
            symbols, starts = pack_block([(seq, lengths) for seq, _, _, lengths in samples])
            if self.autograd is not None:
                self.autograd.train(symbols, starts)
            else:
                kernels.train(c.model, self.layout, self.theta, self.opt, symbols, starts,
                              c.optim, c.lr, c.mom, c.weight_decay)
            self.step += block_size
            if self.step % CHECK_EVERY == 0:
                after_check(self, *self.check())
            if self.step % SAVE_EVERY == 0 or self.step == steps:
                self.save_all()

    # --- checks --------------------------------------------------------------------
    def check(self):
        """Each run predicts a fresh example of its own; record the error."""
        examples = [self.lang.sample(rng) for rng in self.check_rngs]
        hidden, probs = self.forward(examples)
        for k, ex in enumerate(examples):
            self.checks[k].append(self.lang.error(ex, probs[k]))
            if getattr(self.lang, 'embed', False):
                self.final_checks[k].append(self.lang.final_error(ex, probs[k]))
        if not np.isfinite([c[-1] for c in self.checks]).any():
            raise UserError(f"training diverged by step {self.step}: the outputs are no longer "
                            f"numbers; lower --lr (now {self.config.lr})")
        return examples, hidden, probs

    def forward(self, examples):
        """Hidden states and output probabilities of run k on examples[k] (lists)."""
        if self.autograd is not None:
            outputs = [self.autograd.forward(k, ex.seq) for k, ex in enumerate(examples)]
        else:
            outputs = [kernels.forward(self.config.model, self.layout, self.theta[k], ex.seq)
                       for k, ex in enumerate(examples)]
        return [hidden for hidden, _, _ in outputs], [probs for _, probs, _ in outputs]

    def verdict(self, k):
        """(met, checks used, mean of them) of run k against the language's criterion."""
        recent = self.checks[k][-VERDICT_CHECKS:]
        if not recent or not np.isfinite(recent).all():
            return False, len(recent), float('inf')       # diverged runs never win
        return self.spec.meets(recent), len(recent), float(np.mean(recent))

    def generalisation(self):
        """generalise.evaluate() of every run on the weights as their checkpoints store
        them (all runs in one pass), for the counting languages; else None. Kept per step."""
        if self.spec.is_reber or self.step == 0:
            return None
        if self._generalised is None or self._generalised[0] != self.step:
            evaluate = generalise.evaluate
            if self.autograd is not None:       # the student's model, not the numpy copy
                from nnlab.recurrent import autograd
                evaluate = autograd.generalise
            self._generalised = (self.step, evaluate(
                self.config.model, self.layout, generalise.stored(self.theta),
                self.spec.multiples, generalise.DEFAULT_N))
        return self._generalised[1]

    # --- checkpoints -----------------------------------------------------------------
    def run_index(self, k):
        return None if self.K == 1 else k

    def save_run(self, k, path, interrupted=False):
        """Checkpoint run k's weights and what was trained as `path`."""
        if self.save is not None:
            self.save(path, self.config.model, self.lang.num_symbols, self.config.hid,
                      self.theta[k], self.meta(k, interrupted))
        return path

    def meta(self, k, interrupted=False):
        c = self.config
        met, _, _ = self.verdict(k)
        network = Network(c.lang, bool(c.embed), getattr(self.lang, 'length', None), c.model,
                          c.hid)
        return CheckpointMeta(
            network=network, num_input=self.lang.num_symbols, num_out=self.lang.num_symbols,
            step=self.step, thousands=self.step / 1000, seed=self.seeds[k],
            run=self.run_index(k), restarts=self.K, metric=self.spec.metric,
            threshold=self.spec.threshold, checks=[float(v) for v in self.checks[k]],
            success=bool(met), interrupted=interrupted, config=asdict(c),
            engine=self.choice.engine, fingerprint=self.choice.fingerprint)

    def save_all(self, interrupted=False):
        """Checkpoint every run at the current step; the paths (none without `save`)."""
        if self.save is None:
            return []
        paths = [self.save_run(k, self.checkpoint_path(self.step / 1000, self.run_index(k)),
                               interrupted) for k in range(self.K)]
        self.saved.extend(paths)
        return paths
