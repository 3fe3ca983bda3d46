"""seq_plot.py's record of a look inside a network, `{plot_dir}/{stem}_analysis.json`,
and its configuration (seq_plot.py's flags): which checkpoint, what was found (the state
machine, the counting units) and the pictures drawn. report.py shows them."""
import os
from dataclasses import dataclass, field

from nnlab.formats import schema
from nnlab.formats.seq_checkpoint import nest_network
from nnlab.recurrent.languages import Network


@dataclass(frozen=True)
class PlotConfig(Network):
    """What seq_plot.py looks at, and how."""
    epoch: float = 100            # the checkpoint, in thousands of examples
    run: int | None = None        # run i of seq_train.py --restarts
    seed: int = 0
    out_path: str = 'net'
    num_plot: int = 10
    plot_dir: str = 'plot'
    show: bool = False
    context: bool = False
    fsm: bool = False
    states: int | None = None
    explain: bool = False
    examples: int = 300
    generalise: int | None = None  # check n = 1..this beyond the training lengths
    weights: str | None = None     # a network the explore page saved, not a checkpoint


@dataclass
class Trained:
    """What the checkpoint says of its training."""
    seed: int | None = None
    success: bool | None = None
    checks: list[float | None] = field(default_factory=list)
    metric: str | None = None
    threshold: float | None = None


@dataclass
class MachineRecord:
    """--fsm: the state machine extracted from the hidden states."""
    text: str                         # as printed
    states: int                       # clusters
    minimal_states: int               # after merging alike ones
    state_of_cluster: list[str]
    accepted: int                     # held-out examples the machine predicts as the network
    examples: int
    # counting languages: every n up to this, the machine on its own picks the network's
    # symbol at every determined position (generalise.agreement)
    agrees_up_to: int | None = None
    # The machine as data (format 3 on; empty in older files). A state vector (the hidden
    # units, then the cell units when with_cell) is in the cluster whose centre is nearest
    # in units of `scale` (the explore page's fsm.assign), and in that cluster's state_of_cluster.
    symbols: str = ''
    start: str = ''                                   # the start state, e.g. 's0'
    moves: dict[str, dict[str, str]] = field(default_factory=dict)  # state, symbol: next
    predicts: dict[str, list[float]] = field(default_factory=dict)  # next-symbol probs
    centres: list[list[float]] = field(default_factory=list)        # per cluster c0, c1..
    scale: list[float] = field(default_factory=list)                # per unit
    with_cell: bool = False
    lines: dict[str, list[int]] = field(default_factory=dict)       # its lines of `text`

    def problem(self):
        if self.centres and (len(self.centres) != len(self.state_of_cluster) or any(
                len(c) != len(self.scale) for c in self.centres)):
            return "the centres do not fit state_of_cluster and scale"
        if any(s <= 0 for s in self.scale):
            return "a unit's scale is not above 0"
        return None


@dataclass
class Counters:
    """--explain: which units count what, as printed."""
    text: str


@dataclass
class Generalisation:
    """--generalise (and seq_train's verdict): the rule of nnlab/recurrent/generalise.py
    on n = 1..checked. Lists run over n; positions are 1-based symbol numbers."""
    checked: int                      # N
    trained: int                      # the training strings' n ran 1..trained
    largest_n_right: int              # e1 - 1
    first_errors: list[int]           # the first (up to 5) n it is not right on
    right: list[bool]
    first_wrong: list[int | None]     # the first determined position it gets wrong
    p_first_wrong: list[float | None]  # the right symbol's probability there
    weakest: list[float]              # its smallest probability over determined positions
    weakest_at: list[int]

    def problem(self):
        if not 1 <= self.checked or not 0 <= self.largest_n_right <= self.checked:
            return f"largest_n_right {self.largest_n_right} is not in 0..{self.checked}"
        lists = (self.right, self.first_wrong, self.p_first_wrong, self.weakest,
                 self.weakest_at)
        if any(len(values) != self.checked for values in lists):
            return f"the per-n lists do not all hold {self.checked} values"
        return None


# The first release's files ('nnlab-analysis-1') hold the same fields, the network's flat;
# version 2 has no machine as data (the page then says to run seq_plot.py --fsm again).
@dataclass(kw_only=True)
class Analysis(schema.Document, format='nnlab-analysis-3',
               older=('nnlab-analysis-2', 'nnlab-analysis-1')):
    network: Network
    command: str = ''
    checkpoint: str = ''
    epoch: float = 0.0
    run: int | None = None
    seed: int = 0
    trained: Trained = field(default_factory=Trained)
    fsm: MachineRecord | None = None
    explain: Counters | None = None
    generalise: Generalisation | None = None
    pictures: list[str] = field(default_factory=list)

    @classmethod
    def upgrade(cls, data, found):
        return nest_network(data) if found == 'nnlab-analysis-1' else data


RECORDS = '*_analysis.json'
SUFFIX = '_analysis.json'


def record_path(plot_dir, stem):
    """The analysis of the network named `stem` in --plot_dir."""
    return os.path.join(plot_dir, f'{stem}{SUFFIX}')
