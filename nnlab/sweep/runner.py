"""The sweep from start to end: check the folder, plan the tasks, run them, keep every row.

DIR (--out) holds one sweep:

    sweep.json    its definition (script, flags, grid, seeds): what --resume continues
    results.csv   one row per setting and seed, rewritten as each task finishes
    summary.md, success.png, metric.png    the summary (see report.py)
    runs/<setting>/<seeds>/    each task's folder (see process.py)
"""
import os
import shutil
import time

from nnlab.cli import UserError, stop
from nnlab.files import ensure_dir
from nnlab.formats import schema
from nnlab.formats.sweep_definition import SweepDefinition
from nnlab.sweep import plan
from nnlab.sweep.process import RECORD, TaskSpec
from nnlab.sweep.results import FAILED, OK, Results
from nnlab.sweep.summary import write_summary

DEFINITION = 'sweep.json'


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


def check_folder(folder, sweep, stored, resume):
    """Refuse to mix two sweeps in one folder, or to redo a finished sweep by accident."""
    if stored is None:
        if os.path.isdir(folder) and os.listdir(folder):
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


def remove_stale_folders(folder, results):
    """Remove task folders no row points to: tasks stopped by Ctrl-C or a crash (their
    seeds are about to run again), so runs/ holds exactly the attempts in results.csv."""
    kept = {os.path.normpath(row['task']) for row in results.rows.values()}
    runs = os.path.join(folder, 'runs')
    for setting in (os.listdir(runs) if os.path.isdir(runs) else []):
        if not os.path.isdir(os.path.join(runs, setting)):
            continue
        for name in os.listdir(os.path.join(runs, setting)):
            if os.path.normpath(os.path.join('runs', setting, name)) not in kept:
                shutil.rmtree(os.path.join(runs, setting, name), ignore_errors=True)


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


def rows_of(kind, task, outcome, folder):
    """{seed: row values} for a finished task: the record's figures when it succeeded,
    the error line for every seed when it did not."""
    share = len(task.seeds)
    common = dict(exit_code=outcome['exit_code'], task=task.folder,
                  seconds=round(outcome['seconds'] / share, 3))
    error = outcome['error']
    per_seed = {}
    if outcome['exit_code'] == 0:
        try:
            record = schema.load(os.path.join(folder, task.folder, RECORD), kind.record)
        except schema.FormatError as err:
            error = f'the run record cannot be read: {err}'
        else:
            if record.status != 'finished':
                error = f"the run record says {record.status!r}, not 'finished'"
            else:
                per_seed = kind.rows(record)
    rows = {}
    for seed in task.seeds:
        if seed in per_seed:
            rows[seed] = dict(common, status=OK, **per_seed[seed])
        else:
            rows[seed] = dict(common, status=FAILED,
                              error=error or f'the run record has no result for seed {seed}')
    return rows


def _clock(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f'{hours}:{rest // 60:02d}:{rest % 60:02d}' if hours else \
        f'{rest // 60}:{rest % 60:02d}'


class Progress:
    """One line per finished task: rows done, successes so far, time left."""

    def __init__(self, kind, total, already):
        self.kind, self.total, self.done, self.new = kind, total, already, 0
        self.successes = self.failed = self.runs = 0
        self.started = time.monotonic()

    def count(self, rows):
        self.done += len(rows)
        self.new += len(rows)
        for row in rows:
            if row['status'] == OK:
                self.runs += 1
                self.successes += bool(row.get('success'))
            else:
                self.failed += 1

    def line(self, task, rows):
        elapsed = time.monotonic() - self.started
        left = (self.total - self.done) * elapsed / self.new if self.new else 0
        if self.kind.has_criterion:
            ok = [r for r in rows if r['status'] == OK]
            what = f"{sum(bool(r.get('success')) for r in ok)} of {len(ok)} succeeded"
            so_far = f"so far {self.successes} of {self.runs} succeeded"
        else:
            what = f"{sum(r['status'] == OK for r in rows)} finished"
            so_far = f"so far {self.runs} finished"
        failed = [r for r in rows if r['status'] != OK]
        if failed:
            what = f"FAILED: {failed[0]['error']}"
        return (f"[{self.done:>{len(str(self.total))}}/{self.total}] {task.label}: {what} | "
                f"{so_far}, {self.failed} failed | {_clock(elapsed)} elapsed, "
                f"about {_clock(left)} left")


def make_backend(name, jobs, address):
    if name == 'ray':
        from nnlab.sweep.ray_backend import RayBackend
        return RayBackend(jobs, address)
    from nnlab.sweep.local import LocalBackend
    return LocalBackend(jobs)


def summarise_only(folder):
    """--report: summarise an existing sweep folder."""
    sweep = read_definition(folder)
    if sweep is None:
        raise UserError(f"--out {folder} holds no sweep ({DEFINITION} is missing); give the "
                        f"folder of an earlier sweep")
    results = Results(folder, sweep.kind, sweep.grid_names).load()
    remove_stale_folders(folder, results)      # e.g. the first attempts of retried rows
    text, written = write_summary(folder, sweep, results)
    print(text)
    print('wrote ' + ', '.join(written), flush=True)
    return 0


def run_sweep(sweep, folder, backend_name='local', jobs=None, address=None, block=None,
              resume=False):
    """Run what is missing of `sweep` in `folder`; return the exit code."""
    stored = read_definition(folder)
    parsed = plan.check_flags(sweep)
    rows_total = len(sweep.settings) * len(sweep.seeds)
    if rows_total > plan.MAX_ROWS:
        raise UserError(f"{rows_total:,} rows (settings x seeds) is more than "
                        f"{plan.MAX_ROWS:,}; use fewer seeds or grid values")
    check_folder(folder, sweep, stored, resume)
    backend = make_backend(backend_name, jobs, address)   # before writing: Ray may be missing
    try:
        ensure_dir(folder)
        schema.save(os.path.join(folder, DEFINITION), sweep.to_definition())
        results = Results(folder, sweep.kind, sweep.grid_names).load()
        results.write(sweep.settings)
        remove_stale_folders(folder, results)
        work = plan_work(sweep, parsed, results, folder, backend.workers, block)
        missing = sum(len(task.seeds) for task, _ in work)
        already = rows_total - missing
        print(f"sweep: {sweep.kind.name}, {len(sweep.settings)} setting(s) x "
              f"{len(sweep.seeds)} seed(s) = {rows_total} rows"
              f"{f', {already} already done' if already else ''}; {len(work)} task(s) on "
              f"{backend.workers} {backend.name} worker(s); results in {folder}", flush=True)
        progress = Progress(sweep.kind, rows_total, already)

        def on_done(task, outcome):
            rows = rows_of(sweep.kind, task, outcome, folder)
            for seed, values in rows.items():
                results.add(task.setting.key, seed, values)
            results.write(sweep.settings)
            progress.count(list(rows.values()))
            print(progress.line(task, list(rows.values())), flush=True)

        backend.run(work, on_done)
    finally:
        backend.close()
    if stop.requested:
        print(f"stopped: {progress.done} of {rows_total} rows are in "
              f"{results.path}; `python3 sweep.py --resume --out {folder}` runs the rest",
              flush=True)
        stop.check()
    remove_stale_folders(folder, results)      # e.g. the first attempts of retried rows
    text, written = write_summary(folder, sweep, results)
    print(text)
    print('wrote ' + ', '.join([results.path, *written]), flush=True)
    failed = [r for r in results.ordered(sweep.settings) if r['status'] != OK]
    if failed:
        print(f"{len(failed)} of {rows_total} rows failed (first: {failed[0]['error']}); "
              f"--resume runs them again", flush=True)
        return 1
    return 0


def plan_work(sweep, parsed, results, folder, workers, block):
    """[(task, TaskSpec)] for the rows not yet done, seeds in blocks where allowed."""
    missing = {s: [seed for seed in sweep.seeds if not results.done(s.key, seed)]
               for s in sweep.settings}
    size = block or plan.auto_block(sum(map(len, missing.values())), workers)
    work = []
    for setting, seeds in missing.items():
        k = size if sweep.kind.can_block(parsed[setting]) else 1
        for seeds_block in plan.blocks(seeds, k):
            task = plan.Task(setting, seeds_block)
            work.append((task, task_spec(sweep, task, folder)))
    return work
