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
# 'page' is the word for report.py's page (its manifests of before said 'report')
class PageRuns(schema.Document, format='nnlab-page-runs-3',
               older=('nnlab-report-runs-2', 'nnlab-report-runs-1')):
    started: str = ''
    seconds: float | None = None
    steps: list[StepRecord] = field(default_factory=list)

    @classmethod
    def upgrade(cls, data, found):
        return data               # the same fields; the steps are checked one by one


def load_lenient(path):
    """(PageRuns, reasons): the manifest at `path` with each step that does not read
    dropped and named in `reasons`, so one damaged step costs only its own section;
    FormatError if the manifest itself does not read."""
    raw = schema.parse_json(schema.read_bytes(path, schema.MAX_JSON_BYTES))
    steps = raw.get('steps') if isinstance(raw, dict) else None
    manifest = schema.document(PageRuns, dict(raw, steps=[]) if isinstance(raw, dict) else raw)
    reasons = []
    for number, step in enumerate(steps if isinstance(steps, list) else []):
        try:
            manifest.steps.append(schema.from_dict(StepRecord, step, f'steps[{number}]'))
        except schema.FormatError as err:
            reasons.append(str(err))
    return manifest, reasons
