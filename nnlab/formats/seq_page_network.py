"""A recurrent network trained on the explore page (its `Save` button): JSON with the
network, its float64 weights as the flat vector of parameters.Layout, the checks its
verdict was made from and how it was trained. `seq_plot.py --weights FILE` looks inside
it as inside a checkpoint; explore.py offers the files found in --net_dir; the page's
`Load` reads one back."""
from dataclasses import dataclass, field

from nnlab.formats import schema
from nnlab.recurrent.languages import Network

MAX_WEIGHT = 1e6             # beyond this the page's training had diverged
MAX_BYTES = 20 * 2**20       # a 512-unit LSTM's weights are about 2 MB of JSON numbers


@dataclass(kw_only=True)
class PageTraining:
    """How the page trained the network, and what it measured."""
    optim: str
    lr: float
    weight_decay: float
    mom: float = 0.0
    init: str = 'seed'                # 'seed', or the checkpoint or file it started from
    seed: int | None = None           # the page's own seed (not seq_train's numpy draws)
    examples: int = 0                 # examples trained
    check_every: int = 1000
    checks: list[float | None] = field(default_factory=list)
    metric: str = 'loss'
    threshold: float = 0.05
    success: bool = False             # the language's criterion on the last 10 checks
    verdict: str = ''                 # the line the page showed
    largest_n_right: int | None = None    # counting languages (n = 1..100), else None
    seconds: float | None = None
    engine: str = 'explore page (JavaScript, float64)'

    def problem(self):
        if self.optim not in ('sgd', 'adam'):
            return f"training.optim is {self.optim!r}, not sgd or adam"
        if not self.lr > 0:
            return f"training.lr is {self.lr}, not above 0"
        return None


@dataclass(kw_only=True)
class PageNetwork(schema.Document, format='nnlab-page-network-1'):
    network: Network
    num_symbols: int
    weights: list[float]
    training: PageTraining

    def problem(self):
        if not 1 <= self.num_symbols <= 64:
            return f"num_symbols is {self.num_symbols}, not in 1..64"
        big = next((w for w in self.weights if abs(w) > MAX_WEIGHT), None)
        if big is not None:
            return f"a weight is {big:g}, beyond +-{MAX_WEIGHT:g} (the training diverged)"
        return None
