"""Which net a `kuzu_main.py --save PATH` file holds: a record beside it,
`{PATH without its extension}_net.json`. The saved file itself stays a bare state dict, as
the course loads it (`net.load_state_dict(torch.load(path))`), so which class and hidden
size it fits are said here; the explore page reads this instead of guessing the hidden
size from a weight's shape (it still guesses for a file saved before the record existed,
and says so)."""
import os
from dataclasses import dataclass

from nnlab.formats import schema
from nnlab.kmnist.facts import NETS


def saved_path(net_dir, net):
    """Where report.py --run saves net `net` (kuzu_main.py --save) and explore.py looks for
    it: `{net_dir}/kuzu_{net}.pth`."""
    return os.path.join(net_dir, f'kuzu_{net}.pth')


def record_path(save_path):
    """The record beside the state dict at `save_path`."""
    return os.path.splitext(os.fspath(save_path))[0] + '_net.json'


@dataclass(kw_only=True)
class SavedNet(schema.Document, format='nnlab-kuzu-net-1'):
    net: str                    # kuzu_main.py --net: 'lin', 'full' or 'conv'
    net_class: str = ''         # the class in kuzu.py, e.g. 'NetFull'
    hid: int | None = None      # the hidden size its constructor was given (None: none)
    weights: str = ''           # the state dict's file name, beside this record
    epoch: int = 0              # the epoch whose weights they are
    accuracy: float | None = None

    def problem(self):
        return None if self.net in NETS else f"net is {self.net!r}, not one of {NETS}"
