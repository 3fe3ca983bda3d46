"""check_main.py's run record, `{plot_dir}/check_{act}_hid{hid}_run.json`, and the
configuration of a run (check_main.py's flags).

The results are data, not printed text: the weights before and after training, the
accuracy at every logged epoch, each hidden unit's dividing line, and the hidden and
output activations of every point. report.py draws its Part 2 from them with
check_main.py's own formatting (nnlab/perceptron/console.py).
"""
import os
from dataclasses import dataclass, field

from nnlab.formats.runs import RunHeader, TrainedBy

ACTIVATIONS = ('sig', 'step')


@dataclass(frozen=True)
class CheckConfig:
    """What check_main.py runs (its flags)."""
    act: str = 'sig'
    hid: int | None = None            # None: 4, or the weights file's size
    init: float = 0.15
    set_weights: bool = False
    weights: str | None = None        # a JSON design (implies set_weights)
    scale: float | None = None        # None: check.py's SIG_SCALE
    lr: float = 0.001
    epoch: int = 200000
    restarts: int = 1
    first: bool = False
    seed: int = 0
    seed_drawn: bool = False          # the seed was drawn for this run (no --seed)
    csv: str | None = None
    plot_dir: str = 'plot'
    show: bool = False
    summary: str | None = None
    engine: str = 'auto'              # --engine (nnlab/engine.py)

    @property
    def designed(self):
        return self.set_weights or self.weights is not None

    @property
    def random_start(self):
        """The seed matters: the network starts from random weights."""
        return not self.designed

    def problem(self):
        return None if self.act in ACTIVATIONS else f"act is {self.act!r}, not sig or step"


@dataclass
class Weights:
    """The four arrays of check.py's weights block, as nested lists."""
    in_hid_weight: list[list[float]]
    hid_bias: list[float]
    hid_out_weight: list[list[float]]
    out_bias: list[float]

    def problem(self):
        hid = len(self.hid_bias)
        shapes = [(len(self.in_hid_weight), {len(r) for r in self.in_hid_weight}),
                  (len(self.hid_out_weight), {len(r) for r in self.hid_out_weight})]
        if shapes != [(hid, {2} if hid else set()), (1, {hid})] or len(self.out_bias) != 1:
            return f"the weights do not make a 2-{hid}-1 network"
        return None

    @classmethod
    def of(cls, named):
        """From check.py's dict of tensors (or arrays)."""
        return cls(**{name: value.tolist() for name, value in named.items()})


@dataclass
class Restart:
    """How one of the --restarts networks did."""
    seed: int
    reached_100: bool
    perfect_since: int | None         # first epoch of its final run at 100%
    stopped: int                      # the last epoch it trained
    final_loss: float | None
    final_accuracy: float


@dataclass
class LoggedEpoch:
    """An `ep:` line's numbers: the kept network at a logged epoch."""
    epoch: int
    loss: float | None
    accuracy: float | None


@dataclass
class DividingLine:
    """Hidden unit `unit` is on where wx*x + wy*y + bias >= 0."""
    unit: str
    wx: float
    wy: float
    bias: float


@dataclass
class Point:
    """One point of the data with the network's activations there."""
    x: float
    y: float
    target: float
    hidden: list[float]
    output: float


@dataclass
class CheckResults(TrainedBy):
    hid: int = 0
    initial_weights: Weights | None = None     # where the reported network started
    initial_accuracy: float | None = None      # printed with --set_weights / --weights
    restarts: list[Restart] = field(default_factory=list)    # empty: nothing trained
    kept: int | None = None
    log: list[LoggedEpoch] = field(default_factory=list)
    final_weights: Weights | None = None
    final_accuracy: float | None = None
    stuck: bool = False                        # trained, ended below 100%
    lines: list[DividingLine] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    pictures: list[str] = field(default_factory=list)

    def problem(self):
        if any(len(p.hidden) != self.hid for p in self.points) or len(self.lines) not in (
                0, self.hid):
            return f"results: the lines and points do not have {self.hid} hidden units"
        if self.kept is not None and not 0 <= self.kept < max(len(self.restarts), 1):
            return f"results.kept is {self.kept}, not one of the restarts"
        return None


@dataclass(kw_only=True)
class CheckRun(RunHeader, format='nnlab-check-run-3', script='check_main.py',
               readable=('nnlab-check-run-2',)):
    """check_main.py's run record."""
    config: CheckConfig = field(default_factory=CheckConfig)
    results: CheckResults = field(default_factory=CheckResults)


# The files of a run (the course's picture names), named here for the writer
# (perceptron/run.py CheckOutputs) and the readers.
RECORDS = 'check_*_run.json'
INITIAL_PICTURE = 'check.jpg'


def record_path(plot_dir, act, hid):
    return os.path.join(plot_dir, f'check_{act}_hid{hid}_run.json')


def loss_picture(hid):
    return f'loss_{hid}.jpg'


def hidden_picture(hid, node):
    return f'hid_{hid}_{node}.jpg'


def output_picture(hid):
    return f'out_{hid}.jpg'
