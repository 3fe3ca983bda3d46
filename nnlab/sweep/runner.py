"""The sweep from start to end: check the folder, plan the tasks, run them, keep every row.

DIR (--out) holds one sweep:

    sweep.json    its definition (script, flags, grid, seeds): what --resume continues
    results.csv   one row per setting and seed, rewritten as each task finishes
    tasks.json    the task folders the sweep made (what cleaning up may remove)
    summary.md, success.png, metric.png    the summary (see summary.py)
    runs/<setting>/<seeds>/    each task's folder (see process.py)
    .sweep.lock   while a sweep runs in DIR: which one (a second writer is refused)
"""
import contextlib
import os
import shutil
import time

from nnlab.cli import UserError, stop
from nnlab.files import ensure_dir
from nnlab.formats import schema
from nnlab.formats.slurm_jobs import uncollected
from nnlab.formats.sweep_definition import SweepDefinition
from nnlab.formats.sweep_results import FAILED, OK
from nnlab.formats.sweep_tasks import TaskFolders
from nnlab.locking import HeldElsewhere, OutputLock
from nnlab.sweep import plan
from nnlab.sweep.process import RECORD, TaskSpec
from nnlab.sweep.results import Results
from nnlab.sweep.summary import write_summary

DEFINITION = 'sweep.json'
TASKS = 'tasks.json'
LOCK = 'sweep'                      # DIR/.sweep.lock


def read_definition(folder):
    """The Sweep stored in DIR, or None if DIR holds none; one `error: FILE: reason` line
    for a damaged or foreign file."""
    path = os.path.join(folder, DEFINITION)
    if not os.path.lexists(path):
        return None
    try:
        return plan.Sweep.from_definition(schema.load(path, SweepDefinition))
    except (schema.FormatError, UserError) as err:
        raise UserError(f"{path}: {err}; fix it, or choose another --out")


def sweep_lock(folder):
    return OutputLock(folder, LOCK, 'this sweep')


def check_folder(folder, sweep, stored, resume):
    """Refuse to mix two sweeps in one folder, or to redo a finished sweep by accident."""
    if stored is None:
        if any(name != f'.{LOCK}.lock' for name in os.listdir(folder)):     # run_sweep made DIR
            raise UserError(f"--out {folder} already holds other files, not a sweep; give a "
                            f"new or empty folder")
        return
    count = len(Results(folder, stored.kind, stored.grid_names).load(warn=False).rows)
    if not stored.same_kind_of_rows(sweep):
        raise UserError(f"--out {folder} holds another sweep ({stored.command}); choose "
                        f"another --out, or delete that folder")
    if not resume:
        same = stored.grid == sweep.grid and stored.seeds == sweep.seeds
        what = 'this sweep' if same else 'a sweep of the same script and flags'
        raise UserError(f"--out {folder} already holds {what} ({count} rows); add --resume "
                        f"to run what is missing, --report to summarise it, or choose "
                        f"another --out")


class Tasks:
    """The task folders the sweep made (DIR/tasks.json)."""

    def __init__(self, folder):
        self.folder, self.path = folder, os.path.join(folder, TASKS)
        self.made = []
        if os.path.lexists(self.path):
            try:
                self.made = schema.load(self.path, TaskFolders).folders
            except schema.FormatError as err:
                raise UserError(f"{self.path}: {err}; fix or remove it (then folders under "
                                f"runs/ are left alone), or choose another --out")

    def save(self):
        schema.save(self.path, TaskFolders(folders=sorted(set(self.made))))

    def claim(self, relative):
        """Record that the sweep makes `relative` (before the task starts); refuse a
        folder that is there but is not the sweep's."""
        relative = os.path.normpath(relative).replace(os.sep, '/')
        if relative not in self.made and os.path.lexists(os.path.join(self.folder, relative)):
            raise UserError(f"{os.path.join(self.folder, relative)} is there but this sweep "
                            f"did not make it; move it out of the way")
        self.made.append(relative)

    def remove_stale(self, results):
        """Remove the sweep's task folders no row points to: tasks stopped by Ctrl-C or a
        crash (their seeds run again), or the first attempts of retried rows. A link is
        removed, never followed; a folder the sweep did not make is never touched."""
        kept = {os.path.normpath(row.task).replace(os.sep, '/')
                for row in results.rows.values()}
        runs = os.path.realpath(os.path.join(self.folder, 'runs'))
        left = []
        for relative in self.made:
            path = os.path.join(self.folder, relative)
            if relative in kept:
                left.append(relative)
            elif os.path.islink(path):
                os.unlink(path)
            elif os.path.isdir(path) and os.path.realpath(path).startswith(runs + os.sep):
                shutil.rmtree(path, ignore_errors=True)
        if left != self.made:
            self.made = left
            self.save()


def task_spec(sweep, task, folder):
    kind = sweep.kind
    task_folder = os.path.join(folder, task.folder)
    args = [*sweep.script_args, *task.setting.argv, '--seed', str(task.seeds[0])]
    if len(task.seeds) > 1:
        args += ['--restarts', str(len(task.seeds))]
    args += ['--summary', os.path.join(task_folder, RECORD)]
    for flag in kind.output_flags:
        args += [flag, task_folder]
    env = {name: os.environ[name] for name in ('KUZU_DATA',) if name in os.environ}
    return TaskSpec(script=kind.path, args=args, folder=task_folder, cwd=os.getcwd(), env=env)


def add_rows(results, settings, task, outcome, folder):
    """Add a finished task's rows to `results` and rewrite results.csv; return the rows:
    the record's figures when it succeeded, the error line for every seed when it did not."""
    common = dict(exit_code=outcome['exit_code'], task=task.folder,
                  seconds=round(outcome['seconds'] / len(task.seeds), 3))
    error = outcome['error']
    per_seed = {}
    if outcome['exit_code'] == 0:
        path = os.path.join(folder, task.folder, RECORD)
        try:
            if not os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep):
                raise schema.FormatError('it leads outside the sweep folder')
            record = schema.load(path, results.kind.record)
        except schema.FormatError as err:
            error = f'the run record cannot be read: {err}'
        else:
            if record.status != 'finished':
                error = f"the run record says {record.status!r}, not 'finished'"
            else:
                per_seed = results.kind.rows(record)
    rows = []
    for seed in task.seeds:
        if seed in per_seed:
            values = dict(common, status=OK, **per_seed[seed])
        else:
            values = dict(common, status=FAILED,
                          error=error or f'the run record has no result for seed {seed}')
        rows.append(results.add(task.setting.key, seed, values))
    results.write(settings)
    return rows


def _clock(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours}:{minutes:02d}:{seconds:02d}' if hours else f'{minutes}:{seconds:02d}'


class Progress:
    """One line per finished task: rows done, successes so far, time left."""

    def __init__(self, kind, total, already):
        self.kind, self.total, self.done, self.new = kind, total, already, 0
        self.successes = self.failed = self.runs = 0
        self.started = time.monotonic()

    def ended(self, task, rows):
        """Count the rows of a task that just ended; return its line."""
        ok = [r for r in rows if r.ok]
        self.done += len(rows)
        self.new += len(rows)
        self.runs += len(ok)
        self.successes += sum(r.success for r in ok)
        self.failed += len(rows) - len(ok)
        elapsed = time.monotonic() - self.started
        left = (self.total - self.done) * elapsed / self.new if self.new else 0
        if self.kind.has_criterion:
            what = f"{sum(r.success for r in ok)} of {len(ok)} succeeded"
            so_far = f"so far {self.successes} of {self.runs} succeeded"
        else:
            what = f"{len(ok)} finished"
            so_far = f"so far {self.runs} finished"
        failed = [r for r in rows if not r.ok]
        if failed:
            what = f"FAILED: {failed[0].error}"
        return (f"[{self.done:>{len(str(self.total))}}/{self.total}] {task.label}: {what} | "
                f"{so_far}, {self.failed} failed | {_clock(elapsed)} elapsed, "
                f"about {_clock(left)} left")


def make_backend(name, jobs, address):
    if not isinstance(name, str):       # a backend's own options (--backend slurm's)
        return name.make_backend(jobs)
    if name == 'ray':
        from nnlab.sweep.ray_backend import RayBackend
        return RayBackend(jobs, address)
    from nnlab.sweep.local import LocalBackend
    return LocalBackend(jobs)


def summarise_only(folder):
    """--report: summarise an existing sweep folder. While a sweep runs there, it reads a
    snapshot (results.csv is only ever replaced whole) and replaces only the summary
    files; otherwise it also tidies the task folders no row needs."""
    sweep = read_definition(folder)
    if sweep is None:
        raise UserError(f"--out {folder} holds no sweep ({DEFINITION} is missing); give the "
                        f"folder of an earlier sweep")
    results = Results(folder, sweep.kind, sweep.grid_names).load()
    try:
        with sweep_lock(folder):
            if not uncollected(folder):         # else SLURM jobs may use their folders
                Tasks(folder).remove_stale(results)
    except HeldElsewhere:
        print("note: a sweep is running in this folder; summarising the rows it has "
              "written so far", flush=True)
    text, written = write_summary(folder, sweep, results)
    print(text)
    print('wrote ' + ', '.join(written), flush=True)
    return 0


def run_sweep(sweep, folder, backend_name='local', jobs=None, address=None, block=None,
              resume=False):
    """Run what is missing of `sweep` in `folder`; return the exit code. One sweep at a
    time writes a folder: the lock is held from the first check to the last row."""
    rows_total = sweep.setting_count * len(sweep.seeds)
    if rows_total > plan.MAX_ROWS:
        raise UserError(f"{rows_total:,} rows (settings x seeds) is more than "
                        f"{plan.MAX_ROWS:,}; use fewer seeds or grid values")
    parsed = plan.check_flags(sweep)
    created = not os.path.lexists(folder)
    try:
        with sweep_lock(ensure_dir(folder)):
            return _run_locked(sweep, parsed, rows_total, folder, backend_name, jobs,
                               address, block, resume)
    finally:
        if created:             # refused before writing anything: leave no empty folder
            with contextlib.suppress(OSError):
                os.rmdir(folder)


def _run_locked(sweep, parsed, rows_total, folder, backend_name, jobs, address, block,
                resume):
    check_folder(folder, sweep, read_definition(folder), resume)
    tasks = Tasks(folder)
    backend = make_backend(backend_name, jobs, address)   # before writing: Ray may be missing
    backend.check_jobs_in(folder)
    try:
        schema.save(os.path.join(folder, DEFINITION), sweep.to_definition())
        results = Results(folder, sweep.kind, sweep.grid_names).load()
        for task, outcome in backend.collect(sweep, folder):   # slurm: ended since --detach
            add_rows(results, sweep.settings, task, outcome, folder)
        results.write(sweep.settings)
        tasks.remove_stale(results)
        work = plan_work(sweep, parsed, results, folder, backend, block)
        for task, _ in work:
            tasks.claim(task.folder)
        tasks.save()
        already = rows_total - sum(len(task.seeds) for task, _ in work)
        print(f"sweep: {sweep.kind.name}, {len(sweep.settings)} setting(s) x "
              f"{len(sweep.seeds)} seed(s) = {rows_total} rows"
              f"{f', {already} already done' if already else ''}; {len(work)} task(s) on "
              f"{backend.workers} {backend.name} worker(s); results in {folder}", flush=True)
        progress = Progress(sweep.kind, rows_total, already)

        def on_done(task, outcome):
            rows = add_rows(results, sweep.settings, task, outcome, folder)
            print(progress.ended(task, rows), flush=True)

        backend.run(work, on_done)
        if backend.detached:        # slurm --detach: the jobs run on; --resume collects them
            return 0
    finally:
        backend.close()
    if stop.requested:
        print(f"stopped: {progress.done} of {rows_total} rows are in "
              f"{results.path}; `python3 sweep.py --resume --out {folder}` runs the rest",
              flush=True)
        stop.check()
    tasks.remove_stale(results)      # e.g. the first attempts of retried rows
    text, written = write_summary(folder, sweep, results)
    print(text)
    print('wrote ' + ', '.join([results.path, *written]), flush=True)
    failed = [r for r in results.ordered(sweep.settings) if not r.ok]
    if failed:
        print(f"{len(failed)} of {rows_total} rows failed (first: {failed[0].error}); "
              f"--resume runs them again", flush=True)
        return 1
    return 0


def plan_work(sweep, parsed, results, folder, backend, block):
    """[(task, TaskSpec)] for the rows not yet done, seeds in blocks where allowed."""
    missing = {s: [seed for seed in sweep.seeds if not results.done(s.key, seed)]
               for s in sweep.settings}
    size = block or plan.auto_block(sum(map(len, missing.values())), backend.workers,
                                    backend.block_limit)
    work = []
    for setting, seeds in missing.items():
        k = size if sweep.kind.can_block(parsed[setting]) else 1
        for seeds_block in plan.blocks(seeds, k):
            task = plan.Task(setting, seeds_block)
            work.append((task, task_spec(sweep, task, folder)))
    return work
