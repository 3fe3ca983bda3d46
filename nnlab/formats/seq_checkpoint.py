"""What a seq_train.py checkpoint says about itself: `meta` beside the weights in
`{out_path}/{lang}_{model}{hid}_{thousands}.pth` (nnlab/recurrent/checkpoint.py reads and
writes the file). Loading refuses a file whose metadata is damaged or of another network
before any weight is touched."""
from dataclasses import dataclass, field
from typing import Any

from nnlab.formats import schema
from nnlab.recurrent.languages import Network

MAX_SYMBOLS = 64


NETWORK_FIELDS = ('lang', 'embed', 'length', 'model', 'hid')


def nest_network(data):
    """An older file's flat language and network fields as a `network` object."""
    data = dict(data)
    data['network'] = {name: data.pop(name) for name in NETWORK_FIELDS if name in data}
    return data


# The first release's checkpoints ('kuzu-seq-1') hold the same metadata, the network's
# fields flat; version 2 has no engine and fingerprint.
@dataclass(kw_only=True)
class CheckpointMeta(schema.Document, format='nnlab-checkpoint-3',
                     older=('nnlab-checkpoint-2', 'kuzu-seq-1')):
    network: Network
    num_input: int
    num_out: int
    step: int = 0                     # examples trained
    thousands: float = 0.0
    seed: int | None = None
    run: int | None = None            # run i of --restarts (None: a single run, or the best)
    restarts: int = 1
    metric: str = 'loss'
    threshold: float | None = None
    checks: list[float | None] = field(default_factory=list)
    success: bool | None = None
    interrupted: bool = False
    config: dict[str, Any] = field(default_factory=dict)    # seq_train.py's SeqConfig
    # what trained it: 'compiled' or 'torch' (None: a file older than version 3), and the
    # fingerprint of seq_models.py's model then (nnlab/engine.py)
    engine: str | None = None
    fingerprint: str | None = None

    def problem(self):
        for name in ('num_input', 'num_out'):
            if not 1 <= getattr(self, name) <= MAX_SYMBOLS:
                return f"{name} is {getattr(self, name)}, not in 1..{MAX_SYMBOLS}"
        return None

    @classmethod
    def upgrade(cls, data, found):
        return nest_network(data) if found == 'kuzu-seq-1' else data


def to_blob(state_dict, meta):
    """What torch.save writes: the weights and the metadata beside them, with its format."""
    described = schema.to_dict(meta)
    described.pop('format', None)
    return {'format': CheckpointMeta.FORMAT, 'state_dict': state_dict, 'meta': described}


def from_blob(blob):
    """(state dict, CheckpointMeta) of what torch.load gave; FormatError(reason) if it is
    not a checkpoint or its metadata is damaged, old or new."""
    if not isinstance(blob, dict) or not isinstance(blob.get('state_dict'), dict):
        raise schema.FormatError("it is not a seq_train.py checkpoint")
    meta = blob.get('meta')
    if not isinstance(meta, dict):
        raise schema.FormatError("its metadata is missing")
    return blob['state_dict'], schema.document(CheckpointMeta,
                                               dict(meta, format=blob.get('format')))
