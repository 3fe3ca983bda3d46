"""What `report.py --run` ran, `{out}/runs.json`: each command, how it ended and where
its output is, written after every command so the page can say what failed even after a
crash."""
from dataclasses import dataclass, field

from nnlab.formats import schema

STATUSES = ('pending', 'finished', 'failed', 'interrupted', 'skipped', 'not run')


@dataclass
class StepRecord:
    key: str                          # the question it answers (nnlab/page/commands.py)
    part: int
    command: str
    argv: list[str] = field(default_factory=list)
    quick: bool = False
    status: str = 'pending'
    reason: str = ''                  # why it failed, was skipped or not run
    log: str = ''                     # its output, relative to the report folder
    started: str = ''
    started_ts: float | None = None
    ended_ts: float | None = None
    exit_code: int | None = None
    seconds: float | None = None

    def problem(self):
        return None if self.status in STATUSES else f"status is {self.status!r}"


@dataclass(kw_only=True)
class PageRuns(schema.Document, format='nnlab-report-runs-2', older=('nnlab-report-runs-1',)):
    started: str = ''
    seconds: float | None = None
    steps: list[StepRecord] = field(default_factory=list)

    @classmethod
    def upgrade(cls, data, found):
        return data               # the same fields; the steps are checked one by one
