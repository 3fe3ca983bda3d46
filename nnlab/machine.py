"""The machine a run is on: its usable cores, its name, whether a process of it is still
running, the installed packages' versions and the checkout's commit. The same answers on
Linux, macOS and Windows.

A process is named by (host, process id, start time): a process id alone is reused once
its process is gone, and means nothing on another host (a lock file in a folder that a
cluster's nodes share). Liveness is asked of psutil where it is installed (it reads the
start time on every system), else of /proc on Linux; where neither can tell, a process
counts as alive, so a lock is never taken from a run that may still write. Nothing here
sends a signal (`os.kill(pid, 0)` is Ctrl-C on Windows).
"""
import hashlib
import os
import platform
import socket
import time

from nnlab import ROOT
from nnlab.child import run_captured

START_TOLERANCE = 2.0       # seconds: start times read twice may differ by rounding


def usable_cores():
    """The cores this process may run on (a container or `taskset` can allow fewer than
    the machine has)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):       # not on Linux
        return os.cpu_count() or 1


def threads_allowed():
    """Threads a run may compute with: NUMBA_NUM_THREADS where the environment names it
    (sweep.py gives each task process one thread: it runs one task per core), else one
    per usable core."""
    try:
        named = int(os.environ.get('NUMBA_NUM_THREADS', ''))
    except ValueError:
        named = 0
    return max(1, min(named, usable_cores())) if named > 0 else usable_cores()


def host_name():
    return socket.gethostname() or 'localhost'


def host_tag():
    """A short tag of this host, safe in file names."""
    return hashlib.sha1(host_name().encode('utf-8', 'replace')).hexdigest()[:8]


def _linux_start(pid):
    """Seconds since the epoch at which process `pid` started, from /proc; None if it
    does not exist; raises OSError where /proc cannot tell."""
    try:
        with open(f'/proc/{pid}/stat', 'rb') as f:
            fields = f.read().rsplit(b')', 1)[1].split()
    except FileNotFoundError:
        return None
    ticks = int(fields[19])                 # field 22: start time in clock ticks since boot
    with open('/proc/stat', 'rb') as f:
        boot = next(int(line.split()[1]) for line in f if line.startswith(b'btime'))
    return boot + ticks / os.sysconf('SC_CLK_TCK')


def process_start(pid):
    """When process `pid` of this host started (seconds since the epoch), None if there is
    no such process; raises LookupError where this system cannot tell."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return psutil.Process(pid).create_time()
        except psutil.NoSuchProcess:
            return None
        except psutil.Error:              # access denied, or another failure
            raise LookupError(pid)
    if os.path.isdir('/proc/self'):
        try:
            return _linux_start(pid)
        except (OSError, ValueError, IndexError, StopIteration):
            raise LookupError(pid)
    raise LookupError(pid)


def this_process():
    """(host, pid, start time) of the running process."""
    try:
        started = process_start(os.getpid())
    except LookupError:
        started = None
    return host_name(), os.getpid(), started if started is not None else time.time()


def alive(host, pid, started=None):
    """False only when process `pid` of `host` has certainly ended: it is on this host and
    no process has that id, or the one that has it started at another time."""
    if host != host_name():
        return True                         # another node's process: we cannot see it
    if pid == os.getpid():
        return True
    try:
        now = process_start(pid)
    except LookupError:
        return True
    if now is None:
        return False
    return started is None or abs(now - started) <= START_TOLERANCE


def package_versions():
    """The versions of the packages a run's numbers depend on (installed ones: a run
    that never imports torch still records which torch would have written its files)."""
    from importlib import metadata
    versions = {'python': platform.python_version()}
    for name in ('torch', 'numpy', 'numba', 'matplotlib', 'scikit-learn'):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def git_commit():
    """The checkout's commit (with '+changes' if files differ from it), or None."""
    try:
        code, commit, _ = run_captured(['git', 'rev-parse', 'HEAD'], cwd=ROOT, timeout=5)
        if code != 0:
            return None
        _, dirty, _ = run_captured(['git', 'status', '--porcelain', '--untracked-files=no'],
                                   cwd=ROOT, timeout=5)
    except TimeoutError:
        return None
    return commit.strip() + ('+changes' if dirty.strip() else '')
