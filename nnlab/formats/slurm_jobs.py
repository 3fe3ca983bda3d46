"""The SLURM job arrays a sweep submitted, `DIR/slurm/jobs.json`: written before any
element runs (the arrays are submitted held, saved, then released), so Ctrl-C, SIGTERM or
a later `--resume` can always find, cancel or collect them. Each element is one task (a
block of seeds of one setting)."""
import os
from dataclasses import dataclass, field

from nnlab.formats import schema

FOLDER = 'slurm'                    # DIR/slurm: this file, SLURM's logs, submitit's files
FILE = 'jobs.json'


@dataclass
class Element:
    """One array element: the task it runs and whether its rows were taken."""
    index: int                        # SLURM_ARRAY_TASK_ID
    task: str                         # its folder relative to DIR: runs/<setting>/<seeds>
    setting: list[list[str]]          # the grid values, [[name, value], ...]
    seeds: list[int]
    collected: bool = False           # its rows are in results.csv (or it needs none)

    def problem(self):
        if not self.seeds:
            return f"element {self.index} has no seeds"
        if any(len(pair) != 2 for pair in self.setting):
            return f"element {self.index}: a setting value is not [name, value]"
        return None


@dataclass
class JobArray:
    job_id: str                       # SLURM's id of the array, e.g. '4711'
    elements: list[Element] = field(default_factory=list)
    cancelled: bool = False           # the sweep cancelled it (Ctrl-C): stopped ones are no rows
    single: bool = False              # one element: submitted as a plain job, not an array

    def problem(self):
        if not self.job_id.isdigit():
            return f"job_id {self.job_id[:20]!r} is not a SLURM job id"
        return None


@dataclass(kw_only=True)
class SlurmJobs(schema.Document, format='nnlab-sweep-slurm-1'):
    arrays: list[JobArray] = field(default_factory=list)


def uncollected(folder):
    """How many elements the sweep folder's jobs.json lists whose rows are not yet taken
    (0 without the file): SLURM jobs that may still run in its task folders."""
    try:
        jobs = schema.load(os.path.join(folder, FOLDER, FILE), SlurmJobs)
    except (schema.FormatError, OSError):
        return 0
    return sum(not e.collected for a in jobs.arrays for e in a.elements)

