"""seq_train.py's run record, `{out_path}/{lang}_{model}{hid}_run.json`, and the
configuration of a training (seq_train.py's flags): every run's error at each check and
its verdict against the language's criterion."""
import os
from dataclasses import dataclass, field

from nnlab.formats.runs import RunHeader, TrainedBy
from nnlab.recurrent.languages import Network


@dataclass(frozen=True)
class SeqConfig(Network):
    """What seq_train.py trains (its flags, with the language defaults filled in)."""
    optim: str = 'sgd'
    lr: float = 0.005
    mom: float = 0.0
    weight_decay: float = 1e-4
    init: float | None = None
    epoch: int = 100               # thousands of training examples
    seed: int = 0
    seed_drawn: bool = False
    restarts: int = 1
    out_path: str = 'net'
    plot_dir: str = 'plot'
    summary: str | None = None
    engine: str = 'auto'           # --engine (nnlab/engine.py)

    def problem(self):
        return Network.problem(self) or (
            None if self.optim in ('sgd', 'adam') else f"optim is {self.optim!r}")


@dataclass
class SeqOutcome:
    """One run of --restarts (the only one without)."""
    seed: int
    checks: list[float | None]        # the metric at every check (None: not a number)
    success: bool                     # the language's criterion on the last checks
    mean_last_checks: float | None
    checks_used: int
    # counting languages: every n up to this right beyond training (generalise.py's rule
    # on the weights as the checkpoint stores them; None: Reber, or nothing trained)
    largest_n_right: int | None = None


@dataclass
class SeqResults(TrainedBy):
    metric: str = 'loss'              # 'loss' (anb2n family) or 'error'
    threshold: float = 0.0
    criterion: str = ''               # the criterion in words
    step: int = 0                     # examples trained per run
    runs: list[SeqOutcome] = field(default_factory=list)
    best: int | None = None           # with --restarts: the run saved under the plain name
    checkpoints: list[str] = field(default_factory=list)
    pictures: list[str] = field(default_factory=list)
    seconds_training: float | None = None
    checked_n: int | None = None      # largest_n_right was checked on n = 1..checked_n
    trained_n: int | None = None      # the training strings' n ran 1..trained_n


@dataclass(kw_only=True)
class SeqRun(RunHeader, format='nnlab-seq-run-3', script='seq_train.py',
             readable=('nnlab-seq-run-2',)):
    """seq_train.py's run record."""
    config: SeqConfig = field(default_factory=SeqConfig)
    results: SeqResults = field(default_factory=SeqResults)


RECORDS = '*_run.json'


def record_path(out_path, stem):
    """The record of the run named `stem` (recurrent/checkpoint.py stem) in --out_path."""
    return os.path.join(out_path, f'{stem}_run.json')
