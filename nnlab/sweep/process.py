"""One task = one process of a training script, in its own folder.

The script runs as the user would run it (its own threads, signals, one-line errors), with
its run record, console output and pictures/checkpoints in the task's folder:

    run.json     the run record (--summary)
    stdout.txt   what it printed
    stderr.txt   its warnings and, if it failed, its one-line error (the last line)
    ...          its pictures or checkpoints (--plot_dir / --out_path point here)

The process is a nnlab.child.Child: in its own session, so a Ctrl-C at the terminal
reaches the sweep only; the sweep then stops its tasks itself (the scripts handle the
stop like Ctrl-C). The same code runs a task on a Ray worker. Standard library only.
"""
import os
import shutil
import time
from dataclasses import dataclass, field

from nnlab import ROOT
from nnlab.child import STOP_GRACE_SECONDS, Child, python_script
from nnlab.cli import UserError
from nnlab.formats.slurm_jobs import uncollected
from nnlab.sweep.plan import MAX_AUTO_BLOCK

# Each task process computes with one thread: --jobs N processes then share N cores
# instead of N*cores threads fighting over them (the course's nets are small; a second
# thread per process mostly adds waiting). A user's own setting wins.
ONE_THREAD = {name: '1' for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS',
                                     'OPENBLAS_NUM_THREADS', 'NUMBA_NUM_THREADS')}
RECORD, STDOUT, STDERR = 'run.json', 'stdout.txt', 'stderr.txt'


@dataclass
class TaskSpec:
    """Everything needed to run one task, as plain data (it travels to Ray workers)."""
    script: str               # absolute path of the script
    args: list                # its flags, including --seed/--restarts/--summary/outputs
    folder: str               # absolute path of the task's folder
    cwd: str                  # where the user started the sweep: relative paths mean the same
    env: dict = field(default_factory=dict)   # added to the environment of the process


def worker_pythonpath():
    """PYTHONPATH for a task on another node (Ray, SLURM): this checkout, at the same path
    on every node, then the user's own."""
    return os.pathsep.join(p for p in (str(ROOT), os.environ.get('PYTHONPATH')) if p)


def start_task(spec):
    """Start the task's process in a fresh folder (the folder holds exactly one attempt:
    what an interrupted one left is removed first; a link there is removed, not followed)."""
    if os.path.islink(spec.folder):
        os.unlink(spec.folder)
    shutil.rmtree(spec.folder, ignore_errors=True)
    os.makedirs(spec.folder, exist_ok=True)
    env = {**ONE_THREAD, **os.environ, 'MPLBACKEND': 'Agg', **spec.env}
    return Child(python_script(spec.script, spec.args), cwd=spec.cwd, env=env,
                 stdout=os.path.join(spec.folder, STDOUT),
                 stderr=os.path.join(spec.folder, STDERR)).start()


def outcome(child):
    """What the driver needs of a finished task: exit code, seconds, its error line."""
    return dict(exit_code=child.poll(), seconds=child.seconds, error=child.failure())


def run_to_end(spec):
    """Run a task to its end (a Ray worker's way). A KeyboardInterrupt (how Ray cancels a
    running task) stops the process, waits for it, then propagates."""
    child = start_task(spec)
    try:
        while child.poll() is None:
            time.sleep(0.2)
    except BaseException:
        child.stop_and_wait(STOP_GRACE_SECONDS)
        raise
    return outcome(child)


class AttachedBackend:
    """What the local and Ray backends share: the sweep waits for its tasks (nothing is
    left to collect later, unlike a detached SLURM sweep) and blocks are at most
    MAX_AUTO_BLOCK seeds unless --block says."""
    block_limit = MAX_AUTO_BLOCK
    detached = False

    def collect(self, sweep, folder):
        """Tasks of an earlier run that ended since: none (they end with the sweep)."""
        return ()

    def check_jobs_in(self, folder):
        """Refuse to run seeds that SLURM jobs of this sweep may still be running."""
        count = uncollected(folder)
        if count:
            raise UserError(f"{folder} has {count} SLURM element(s) whose rows are not "
                            f"collected yet; continue it with --backend slurm --resume")

