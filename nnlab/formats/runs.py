"""What every run record holds, whichever script wrote it, and how it is written.

A run record is one JSON file per training run, beside its outputs: the command line, the
configuration, the seed(s), package versions, the git commit, the wall time, the status
and the results. The three scripts' records (kuzu_run.py, check_run.py, seq_run.py) are
this header with their own `config` and `results`. nnlab.outputs.RunWriter fills it in and
writes it atomically when the run ends (also when it is interrupted: `status` says so), so
sweep.py and report.py read finished runs only.
"""
import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from nnlab.formats import schema

STATUSES = ('running', 'finished', 'interrupted')
# The records of the release before typed records: one format for all three scripts.
FIRST_FORMAT = 'nnlab-run-1'


@dataclass(kw_only=True)
class RunHeader(schema.Document):
    SCRIPT: ClassVar[str] = ''          # the script that writes this kind of record
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

    def problem(self):
        if self.script != self.SCRIPT:
            return f"script is {self.script!r}, not {self.SCRIPT}"
        if self.status not in STATUSES:
            return f"status is {self.status!r}, not one of {', '.join(STATUSES)}"
        return None


def run_record(name, format, script, config, results, doc, readable=()):
    """The record class of one script: the header with its `config` and `results` types.
    Records of the first release (one format for all scripts) cannot be read: they say
    to run the script again. `readable`: older versions of this format that load as they
    are (the newer version only added fields with defaults)."""
    def upgrade(cls, data, found):
        return data if found in readable else None
    return dataclasses.make_dataclass(
        name, [('config', config, field(default_factory=config)),
               ('results', results, field(default_factory=results))],
        bases=(RunHeader,), kw_only=True,
        namespace={'FORMAT': format, 'SCRIPT': script,
                   'OLDER': (FIRST_FORMAT, *readable), 'upgrade': classmethod(upgrade),
                   'AGAIN': f'run {script} again to make it with this version',
                   '__doc__': doc, '__module__': config.__module__})
