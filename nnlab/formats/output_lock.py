"""Who holds an output lock, `{folder}/.{name}.lock` (nnlab/locking.py OutputLock): the
host, process id and start time of the run writing there, so a second run can tell a live
holder from one that was killed."""
from dataclasses import dataclass

from nnlab.formats import schema


@dataclass(kw_only=True)
class LockHolder(schema.Document, format='nnlab-lock-1', older=(None,)):
    host: str
    pid: int
    started: float | None = None    # the process's start time (tells a reused pid apart)
    since: float | None = None      # when the lock was taken

    @classmethod
    def upgrade(cls, data, found):
        return data                 # a lock of before the format name: the same keys
