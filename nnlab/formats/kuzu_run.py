"""kuzu_main.py's run record, `{plot_dir}/kuzu_{net}_run.json`, and the configuration of
a run (kuzu_main.py's flags): what was trained, and the test after every epoch."""
import os
from dataclasses import dataclass, field

from nnlab.formats.runs import RunHeader
from nnlab.kmnist.facts import CLASSES, NETS


@dataclass(frozen=True)
class KuzuConfig:
    """What kuzu_main.py trains (its flags)."""
    net: str = 'full'
    lr: float = 0.01
    mom: float = 0.5
    epochs: int = 10
    hid: int | None = None            # NetFull's hidden units (None: FULL_HIDDEN)
    seed: int = 1
    cuda: bool = True
    data: str | None = None           # None: $KUZU_DATA, else ./data (shared copy offline)
    plot_dir: str = 'plot'
    save: str | None = None
    train_count: int | None = None
    summary: str | None = None        # the run record's path (default beside the outputs)

    def problem(self):
        return None if self.net in NETS else f"net is {self.net!r}, not one of {NETS}"


@dataclass
class EpochTest:
    """The test after one epoch."""
    epoch: int
    test_loss: float | None
    correct: int
    accuracy: float


@dataclass
class Mistake:
    """One of the most confused pairs, with test images that show it."""
    true: str
    predicted: str
    count: int
    test_images: list[int] = field(default_factory=list)

    def problem(self):
        if self.true not in CLASSES or self.predicted not in CLASSES:
            return f"the classes {self.true!r}, {self.predicted!r} are not KMNIST's"
        return None


@dataclass
class KuzuResults:
    net: str = ''                     # the class, e.g. 'NetConv'
    train_images: int = 0             # per epoch
    available_train_images: int = 0   # in the data folder
    test_images: int = 0
    parameters: int = 0
    epochs: list[EpochTest] = field(default_factory=list)
    final_epoch: int | None = None    # the epoch the outputs show (None: none finished)
    correct: int | None = None
    accuracy: float | None = None
    confusion: list[list[int]] | None = None     # rows: true class, columns: predicted
    files: list[str] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)

    def problem(self):
        if self.confusion is not None and (len(self.confusion) != len(CLASSES) or any(
                len(row) != len(CLASSES) for row in self.confusion)):
            return f"results.confusion is not a {len(CLASSES)}x{len(CLASSES)} matrix"
        return None


@dataclass(kw_only=True)
class KuzuRun(RunHeader, format='nnlab-kuzu-run-2', script='kuzu_main.py'):
    """kuzu_main.py's run record."""
    config: KuzuConfig = field(default_factory=KuzuConfig)
    results: KuzuResults = field(default_factory=KuzuResults)


# The files of a run, named here for the writer (kmnist/run.py KuzuOutputs) and the readers.
RECORDS = 'kuzu_*_run.json'


def output_path(plot_dir, net, what):
    """`{plot_dir}/kuzu_{net}_{what}`: what is run.json (the record), params.txt,
    confusion.csv and .jpg, history.csv, curve.jpg or mistakes.jpg."""
    return os.path.join(plot_dir, f'kuzu_{net}_{what}')
