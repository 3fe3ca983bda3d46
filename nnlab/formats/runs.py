"""What every run record holds, whichever script wrote it, and how it is written.

A run record is one JSON file per training run, beside its outputs: the command line, the
configuration, the seed(s), package versions, the git commit, the wall time, the status
and the results. The three scripts' records (kuzu_run.py, check_run.py, seq_run.py) are
this header with their own `config` and `results`, each a class written out:

    @dataclass(kw_only=True)
    class KuzuRun(RunHeader, format='nnlab-kuzu-run-2', script='kuzu_main.py'):
        config: KuzuConfig = field(default_factory=KuzuConfig)
        results: KuzuResults = field(default_factory=KuzuResults)

Records of the first release (one format for all scripts) cannot be read: they say to run
the script again. `readable=(...)` names older versions of a record's format that load as
they are (the newer version only added fields with defaults). nnlab.outputs.RunWriter
fills a record in and writes it atomically when the run ends (also when it is
interrupted: `status` says so), so sweep.py and report.py read finished runs only.
"""
from dataclasses import dataclass, field
from typing import ClassVar

from nnlab.formats import schema

STATUSES = ('running', 'finished', 'interrupted')
# The records of the release before typed records: one format for all three scripts.
FIRST_FORMAT = 'nnlab-run-1'


@dataclass(kw_only=True)
class RunHeader(schema.Document):
    SCRIPT: ClassVar[str] = ''          # the script that writes this kind of record
    READABLE: ClassVar[tuple] = ()      # older versions of its format that load as they are
    script: str = ''
    argv: list[str] = field(default_factory=list)
    command: str = ''
    seeds: list[int] = field(default_factory=list)
    seed_drawn: bool = False
    versions: dict[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    started: str = ''
    status: str = 'running'
    wall_seconds: float | None = None

    def __init_subclass__(cls, script=None, readable=(), **kwargs):
        super().__init_subclass__(older=(FIRST_FORMAT, *readable), **kwargs)
        cls.SCRIPT, cls.READABLE = script, tuple(readable)
        cls.AGAIN = f'run {script} again to make it with this version'

    @classmethod
    def upgrade(cls, data, found):
        return data if found in cls.READABLE else None

    def problem(self):
        if self.script != self.SCRIPT:
            return f"script is {self.script!r}, not {self.SCRIPT}"
        if self.status not in STATUSES:
            return f"status is {self.status!r}, not one of {', '.join(STATUSES)}"
        return None


@dataclass(kw_only=True)
class TrainedBy:
    """What trained a record's networks (version 3 of the check and seq records on):
    'compiled' or 'torch' (None: nothing trained), and the fingerprint of the student's
    model then (nnlab/engine.py)."""
    engine: str | None = None
    fingerprint: str | None = None
