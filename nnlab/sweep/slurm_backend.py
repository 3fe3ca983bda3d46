"""--backend slurm: the sweep's tasks as the elements of SLURM job arrays, through submitit.

Each element runs one task (a block of seeds of one setting) exactly as the local backend
does: the same process, command, environment and folder. The sweep folder must be on a
file system the compute nodes share with the login node: the elements write their task
folders there, and `DIR/slurm/` holds the arrays' record (jobs.json, slurm_jobs.py, saved
before any element runs) beside what submitit keeps for each element: its pickles,
SLURM's log and its result. submitit's Job names those files (`job.paths`) and reads the
result (`job.result()`); nothing here spells them.

An element's state comes from its result first, then from `squeue --states=all` (an ended
job stays there for MinJobAge, 300 s by default), never from sacct: many clusters keep no
accounting database. An element that ends without a result is a failed row with SLURM's
state and reason (time limit, pre-emption, node failure); `--resume` runs it again.

Time limits: SLURM sends SIGUSR1 a minute before an element's --time is up. The task
process ignores it (inherited), the element asks the task to save and stop, and its rows
are `failed: time limit` with the task's files kept. Ctrl-C or SIGTERM cancels the sweep's
arrays and keeps every finished row. submitit is imported only here.
"""
import contextlib
import getpass
import io
import os
import re
import shlex
import shutil
import signal
import socket
import sys
import time

from nnlab import arguments
from nnlab.child import STOP_GRACE_SECONDS, run_captured
from nnlab.cli import UserError, stop
from nnlab.files import ensure_dir
from nnlab.formats import schema, slurm_jobs
from nnlab.formats.slurm_jobs import Element, JobArray, SlurmJobs
from nnlab.sweep import plan
from nnlab.sweep.process import outcome, start_task, worker_pythonpath

LOGS, JOBS = slurm_jobs.FOLDER, slurm_jobs.FILE          # DIR/slurm/jobs.json
POLL_SECONDS = 2.0
TIME_SIGNAL, SIGNAL_SECONDS = signal.SIGUSR1 if hasattr(signal, 'SIGUSR1') else None, 60
ENDED_GRACE_SECONDS = 10            # a result file written just before the job ended
GONE_GRACE_SECONDS = 30             # ... or on a network file system that shows it late
COMMAND_SECONDS = 60                # squeue, scontrol or scancel answering
SQUEUE_PATIENCE = 600               # squeue failing this long ends the sweep (jobs cancelled)
DEFAULT_MAX_ARRAY_SIZE = 1001       # SLURM's default MaxArraySize
ACTIVE = {'PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED', 'REQUEUED',
          'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED',
          'RESV_DEL_HOLD', 'SPECIAL_EXIT'}
EXCEPTION_LINE = re.compile(r'^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*$', re.M)
INSTALL = 'pip install -r requirements-slurm.txt'
NO_SBATCH = ("--backend slurm needs SLURM's sbatch, which is not on the PATH here: run the "
             "sweep on the cluster's login node (to try it on one machine: sudo "
             ".ci/slurm-start, see docs/sweeps.md)")
TIME = re.compile(r'(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}'
                  r'|\d+-\d+:\d{1,2}:\d{1,2})')
cpus = arguments.whole(1, 1024, 'CPUs per array element')
parallel = arguments.whole(1, 100_000, 'array elements running at once')
FLAGS = ('partition', 'time', 'mem', 'cpus_per_task', 'account', 'qos', 'slurm_arg',
         'max_parallel', 'setup', 'requeue', 'detach')


# ---- flags ---------------------------------------------------------------------------------

def add_flags(parser):
    """sweep.py's flags for --backend slurm."""
    group = parser.add_argument_group('--backend slurm (a SLURM cluster; docs/sweeps.md)')
    group.add_argument('--partition', help='the partition the job arrays go to (sbatch -p)')
    group.add_argument('--time', help='time limit of each array element (one block of seeds), '
                                      'as sbatch takes it: MINUTES, HH:MM:SS or D-HH:MM')
    group.add_argument('--mem', help='memory per element, as sbatch takes it (e.g. 2G)')
    group.add_argument('--cpus-per-task', type=cpus, default=None, metavar='N',
                       help='CPUs per element (default: the cluster\'s, usually 1; a task '
                            'computes with one thread)')
    group.add_argument('--account', help='the account to charge (sbatch -A)')
    group.add_argument('--qos', help='the quality of service (sbatch --qos)')
    group.add_argument('--slurm-arg', action='append', default=[], metavar='KEY=VALUE',
                       help='any other sbatch option, e.g. constraint=skylake (repeatable)')
    group.add_argument('--max-parallel', type=parallel, default=None, metavar='N',
                       help='elements running at once (the array\'s %%N limit)')
    group.add_argument('--setup', action='append', default=[], metavar='LINE',
                       help="a shell line each element runs first, e.g. 'module load "
                            "python/3.11' or 'source ~/venvs/nnlab/bin/activate' (repeatable)")
    group.add_argument('--requeue', action='store_true',
                       help='let SLURM requeue an element that pre-emption or a node failure '
                            'ends (it starts its block again); default: a failed row')
    group.add_argument('--detach', action='store_true',
                       help='submit and return; --resume later collects what finished')


def options_from(args):
    """The backend sweep.py hands the runner: the name, or SlurmOptions for slurm."""
    given = [f for f in FLAGS if getattr(args, f, None) not in (None, [], False)]
    if args.backend != 'slurm':
        if given:
            flag = '--' + given[0].replace('_', '-')
            raise UserError(f"{flag} is for --backend slurm; add --backend slurm or drop it")
        return args.backend
    return SlurmOptions(args)


class SlurmOptions:
    """What --backend slurm was given, checked before anything is written."""

    def __init__(self, args):
        if shutil.which('sbatch') is None:
            raise UserError(NO_SBATCH)
        if args.time is not None and not TIME.fullmatch(args.time):
            raise UserError(f"--time {args.time!r}: give it as sbatch does, e.g. 30 "
                            f"(minutes), 2:00:00 or 1-12:00")
        self.extra = {}
        for item in args.slurm_arg:
            key, sep, value = item.partition('=')
            key = key.strip().lstrip('-')
            if not sep or not re.fullmatch(r'[a-z][a-z0-9-]*', key):
                raise UserError(f"--slurm-arg {item!r}: expected KEY=VALUE with an sbatch "
                                f"option as KEY, e.g. constraint=skylake")
            if key in ('array', 'output', 'error', 'signal', 'hold', 'open-mode', 'requeue',
                       'no-requeue'):
                raise UserError(f"--slurm-arg {key}: the sweep sets --{key} itself")
            self.extra[key] = value
        self.partition, self.time, self.mem = args.partition, args.time, args.mem
        self.cpus_per_task, self.account, self.qos = args.cpus_per_task, args.account, args.qos
        self.max_parallel, self.setup, self.detach = args.max_parallel, args.setup, args.detach
        self.requeue = args.requeue

    def make_backend(self, jobs):
        return SlurmBackend(self, jobs)


def import_submitit():
    try:
        import submitit
    except ImportError as err:
        raise UserError(f"--backend slurm needs submitit, which cannot be imported here "
                        f"({err}); install it: {INSTALL}")
    return submitit


# ---- SLURM's commands ----------------------------------------------------------------------

def slurm_command(argv):
    """stdout of a SLURM command; UserError with its own last line if it fails."""
    try:
        code, out, err = run_captured(argv, timeout=COMMAND_SECONDS)
    except TimeoutError as error:
        raise UserError(f"{argv[0]} did not answer ({error}); is SLURM up? (sinfo)")
    if code != 0:
        lines = (err or out).strip().splitlines()
        raise UserError(f"{' '.join(argv[:2])} failed: {lines[-1] if lines else code}")
    return out


def max_array_size():
    for line in slurm_command(['scontrol', 'show', 'config']).splitlines():
        name, _, value = line.partition('=')
        if name.strip() == 'MaxArraySize' and value.strip().isdigit():
            return max(1, int(value))
    return DEFAULT_MAX_ARRAY_SIZE


def cluster_cpus(partition, cpus_per_task):
    """Elements the partition (default: the cluster's default one, starred by sinfo) can
    run at once: its CPUs (sinfo %C: allocated/idle/other/total) over each element's."""
    argv = ['sinfo', '--noheader', '--format=%P|%C']
    if partition:
        argv.append(f'--partition={partition}')
    totals = {}
    for line in slurm_command(argv).split():
        name, _, cpus = line.partition('|')
        total = cpus.split('/')[-1]
        if cpus.count('/') == 3 and total.isdigit():
            totals[name] = totals.get(name, 0) + int(total)
    starred = [n for n in totals if n.endswith('*')]
    total = sum(totals[n] for n in (starred if starred and not partition else totals))
    if partition and not total:
        raise UserError(f"--partition {partition}: sinfo shows no CPUs there (sinfo -s lists "
                        f"the partitions)")
    return max(1, total // (cpus_per_task or 1))


def element_states(job_ids):
    """{(array id, index): (state, reason)} of the arrays' elements squeue still knows."""
    ids = set(job_ids)
    text = slurm_command(['squeue', '--noheader', '--array', '--states=all',
                          f'--user={getpass.getuser()}', '--format=%i|%T|%r'])
    states = {}
    for line in text.splitlines():
        parts = line.strip().split('|')
        if len(parts) != 3:
            continue
        array, _, index = parts[0].partition('_')
        index = index or '0'                # a job of one element is no array
        if array in ids and index.isdigit():
            reason = parts[2].strip()
            states[(array, int(index))] = (parts[1].strip(), '' if reason == 'None' else reason)
    return states


# ---- on the compute node -------------------------------------------------------------------

def run_element(spec):
    """What an array element runs (through submitit): the task's process, to its end.
    SLURM's time-limit signal reaches every process of the element: the task ignores it
    (the ignoring is inherited), and this process asks the task to save and stop."""
    limit = []
    if TIME_SIGNAL is not None:
        signal.signal(TIME_SIGNAL, signal.SIG_IGN)
    child = start_task(spec)
    if TIME_SIGNAL is not None:
        signal.signal(TIME_SIGNAL, lambda signum, frame: limit.append(signum))
    while child.poll() is None and not limit:
        time.sleep(0.2)
    if limit:
        child.stop_and_wait(STOP_GRACE_SECONDS)
    result = outcome(child)
    if limit and result['exit_code'] != 0:
        result['error'] = 'time limit'
    result['node'] = socket.gethostname()
    return result


# ---- the backend ---------------------------------------------------------------------------

def failed(error):
    return dict(exit_code=None, seconds=0.0, error=f'slurm: {error}')


class SlurmBackend:
    name = 'slurm'
    # Each element pays a job start and a Python start-up, and waits in the queue: blocks
    # as large as keep every CPU the array may use busy, up to sweep.py's --block bound
    # (64 anb2n seeds are about 3 minutes here; a large sweep gives elements of minutes).
    block_limit = 64

    def __init__(self, options, jobs=None):
        self.submitit = import_submitit()
        self.options = options
        self.workers = jobs or options.max_parallel or cluster_cpus(options.partition,
                                                                   options.cpus_per_task)
        self.detached = False
        self.folder = self.logs = None
        self.jobs = SlurmJobs()
        self.squeue_failing = None      # since when squeue has not answered

    def check_jobs_in(self, folder):
        """Its own uncollected elements are what --resume collects: nothing to refuse."""

    def _open(self, folder):
        self.folder, self.logs = folder, os.path.join(folder, LOGS)
        path = os.path.join(self.logs, JOBS)
        if os.path.lexists(path):
            try:
                self.jobs = schema.load(path, SlurmJobs)
            except schema.FormatError as err:
                raise UserError(f"{path}: {err}; the sweep cannot tell which SLURM jobs are "
                                f"its own: check squeue, then remove the file")

    def _save(self):
        ensure_dir(self.logs)
        schema.save(os.path.join(self.logs, JOBS), self.jobs)

    def _job(self, array, index):
        """submitit's Job of an element (a job of one element is a plain job, no array)."""
        job_id = array.job_id if array.single else f'{array.job_id}_{index}'
        return self.submitit.SlurmJob(folder=self.logs, job_id=job_id)

    def _log(self, job):
        return os.path.relpath(job.paths.stderr, self.folder)

    # -- what ended

    def _result(self, job):
        """The element's outcome from its result, or None while there is none."""
        if not job.paths.result_pickle.exists():
            return None
        try:
            value = job.result()
        except Exception as err:        # it failed in submitit, or the file is damaged
            lines = [m.group(0) for m in EXCEPTION_LINE.finditer(str(err))]
            return failed(f"job {job.job_id} failed: {lines[-1] if lines else type(err).__name__}"
                          f"; see {self._log(job)}")
        if isinstance(value, dict):
            return value
        return failed(f"job {job.job_id} returned {type(value).__name__}, not an outcome")

    def _watch(self, pending, wait=True):
        """Yield (task, outcome) as the pending elements end ({key: (array, element, task,
        job)}, emptied as they do). Elements of cancelled arrays give a row only if they
        finished cleanly. On a stop: cancel what runs, yield what finished meanwhile."""
        ended_at = {}
        while pending:
            states = self._states({key[0] for key in pending})
            for key in list(pending):
                array, element, task, job = pending[key]
                result = self._result(job)
                if result is None:
                    if states is None:              # squeue did not answer: wait
                        continue
                    state, reason = states.get(key, (None, ''))
                    if state in ACTIVE:
                        ended_at.pop(key, None)
                        continue
                    since = ended_at.setdefault(key, time.monotonic())
                    grace = ENDED_GRACE_SECONDS if state else GONE_GRACE_SECONDS
                    if wait and time.monotonic() - since < grace:
                        continue
                    self._check_visible(key, job, state)
                    what = (f"ended {state}{f' ({reason})' if reason else ''} without a result"
                            if state else 'ended without a result (squeue no longer shows it)')
                    result = failed(f"job {key[0]}_{key[1]} {what}; see {self._log(job)}")
                del pending[key]
                if not (array.cancelled and result.get('exit_code') != 0):
                    yield task, result              # else stopped by the sweep: not a row
                element.collected = True            # the caller has written its rows
                self._save()
            if not wait or not pending or stop.requested:
                break
            # squeue is the controller's load: less often for large sweeps
            time.sleep(POLL_SECONDS if len(pending) <= 100 else 5 * POLL_SECONDS)
        if stop.requested and wait and pending:
            self.cancel()
            # Until SLURM has ended them (the tasks save and stop; KillWait then kills):
            # what finishes meanwhile is a row, and no job of the sweep is left in squeue.
            deadline = time.monotonic() + STOP_GRACE_SECONDS + 30
            ids = {key[0] for key in pending}
            while time.monotonic() < deadline:
                yield from self._watch(pending, wait=False)
                states = self._states(ids)
                if not pending and states is not None and \
                        not any(state in ACTIVE for state, _ in states.values()):
                    break
                time.sleep(POLL_SECONDS / 4)

    def _states(self, ids):
        """element_states(ids), or None while squeue fails (a busy controller times out
        now and then): one warning, and an error only after SQUEUE_PATIENCE seconds."""
        try:
            states = element_states(ids)
        except UserError as err:
            if self.squeue_failing is None:
                self.squeue_failing = time.monotonic()
                print(f"warning: {err}; trying again", file=sys.stderr, flush=True)
            elif time.monotonic() - self.squeue_failing > SQUEUE_PATIENCE:
                raise
            return None
        self.squeue_failing = None
        return states

    def _check_visible(self, key, job, state):
        """An element that ended without writing its log: the compute nodes cannot see
        the sweep folder. Stop the sweep with one line rather than fail every row."""
        if state in ('CANCELLED', None) or job.paths.stdout.exists():
            return
        self.cancel()
        raise UserError(f"SLURM ran job {key[0]}_{key[1]} ({state}) but its log "
                        f"{job.paths.stdout} is not here: the compute nodes cannot see "
                        f"{self.folder}; put --out on a file system they share (home or "
                        f"the cluster's work space, not /tmp)")

    def cancel(self):
        """Cancel every array of the sweep that still has elements to collect."""
        arrays = [a for a in self.jobs.arrays if any(not e.collected for e in a.elements)]
        if not arrays:
            return
        ids = [a.job_id for a in arrays]
        for array in arrays:
            try:            # the array's id cancels all its elements
                self.submitit.SlurmJob(folder=self.logs, job_id=array.job_id).cancel()
            except Exception as err:
                print(f"warning: scancel {array.job_id} failed ({err}); cancel them "
                      f"yourself: scancel {' '.join(ids)}", file=sys.stderr, flush=True)
            array.cancelled = True
        self._save()
        print(f"slurm: cancelled job(s) {', '.join(ids)}", flush=True)

    def _uncollected(self):
        return {(array.job_id, element.index): (
            array, element, plan.Task(plan.Setting(tuple(map(tuple, element.setting))),
                                      tuple(element.seeds)), self._job(array, element.index))
            for array in self.jobs.arrays for element in array.elements
            if not element.collected}

    # -- the runner's calls

    def collect(self, sweep, folder):
        """Before planning (--resume): yield (task, outcome) of the elements that ended
        since the last run; wait for those still queued or running (with --detach: say so
        and stop, as their seeds must not be submitted twice)."""
        self._open(folder)
        pending = self._uncollected()
        ended = 0
        for item in self._watch(pending, wait=False):
            ended += 1
            yield item
        if ended:
            print(f"slurm: collected {ended} element(s) that ended since the last run",
                  flush=True)
        if not pending:
            return
        ids = ','.join(sorted({key[0] for key in pending}, key=int))
        if self.options.detach:
            raise UserError(f"{len(pending)} element(s) of this sweep are still queued or "
                            f"running (squeue -j {ids}); --resume again once they end, or "
                            f"without --detach to wait for them")
        total = len(pending)
        print(f"slurm: waiting for {total} element(s) still queued or running "
              f"(job {ids}) before submitting the rest", flush=True)
        for done, (task, result) in enumerate(self._watch(pending), 1):
            yield task, result
            what = 'finished' if result.get('exit_code') == 0 else f"FAILED: {result['error']}"
            print(f"slurm: [{done}/{total}] {task.label}: {what}", flush=True)

    def run(self, work, on_done):
        """Submit [(task, TaskSpec)] as job arrays; call on_done(task, outcome) as each
        element ends (with --detach: submit and return)."""
        if not work or stop.requested:
            return
        try:
            pending = self._submit(work)
            if stop.requested:
                self.cancel()
                return
            if self.options.detach:
                self.detached = True
                ids = ','.join(sorted({key[0] for key in pending}, key=int))
                print(f"slurm: submitted {len(pending)} element(s) as job {ids} and "
                      f"detached; see them with `squeue -j {ids}`, collect them with "
                      f"`python3 sweep.py --resume --out {self.folder}`", flush=True)
                return
            for task, result in self._watch(pending):
                on_done(task, result)
        except BaseException:
            if not self.detached:
                self.cancel()       # an error or a second Ctrl-C: no job runs on unwatched
            raise

    def _executor(self, count):
        options = self.options
        executor = self.submitit.SlurmExecutor(folder=self.logs, max_num_timeout=0)
        extra = {'hold': True}              # released once jobs.json names it
        # SLURM requeues a batch job after a node failure unless told not to: off by default,
        # so such an element is a failed row with SLURM's state (--resume runs it again).
        extra['requeue' if options.requeue else 'no-requeue'] = True
        if TIME_SIGNAL is not None:
            extra['signal'] = f'{signal.Signals(TIME_SIGNAL).name[3:]}@{SIGNAL_SECONDS}'
        extra.update(options.extra)
        executor.update_parameters(
            job_name='nnlab-sweep', time=options.time, partition=options.partition,
            mem=options.mem, cpus_per_task=options.cpus_per_task, account=options.account,
            qos=options.qos, wckey=None, array_parallelism=options.max_parallel or count,
            setup=[*options.setup, f'export PYTHONPATH={shlex.quote(worker_pythonpath())}'],
            additional_parameters=extra)
        return executor

    def _submit(self, work):
        """Submit held arrays, save their ids, then release them: {key: (array, element,
        task, job)}."""
        ensure_dir(self.logs)
        size = max_array_size()
        pending = {}
        for start in range(0, len(work), size):
            chunk = work[start:start + size]
            before = set(os.listdir(self.logs))
            try:       # sbatch's complaint comes back in the error: one line, not two
                with contextlib.redirect_stderr(io.StringIO()), \
                        contextlib.redirect_stdout(io.StringIO()):
                    jobs = self._executor(len(chunk)).map_array(
                        run_element, [spec for _, spec in chunk])
            except Exception as err:
                for name in set(os.listdir(self.logs)) - before:   # the refused array's files
                    with contextlib.suppress(OSError):
                        os.remove(os.path.join(self.logs, name))
                lines = [line for line in str(err).splitlines() if line.strip()]
                raise UserError(f"sbatch refused the job array: "
                                f"{lines[-1].strip() if lines else err}")
            array = JobArray(job_id=jobs[0].job_id.split('_')[0], single=len(chunk) == 1)
            for index, ((task, _), job) in enumerate(zip(chunk, jobs)):
                array.elements.append(Element(
                    index=index, task=task.folder, seeds=list(task.seeds),
                    setting=[[n, v] for n, v in task.setting.values]))
                pending[(array.job_id, index)] = (array, array.elements[-1], task, job)
            self.jobs.arrays.append(array)
            self._save()
            slurm_command(['scontrol', 'release', array.job_id])
            if stop.requested:
                break
        return pending

    def close(self):
        pass
