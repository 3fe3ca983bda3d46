"""The benchmarks (python3 -m bench.NAME). A benchmark times work only when the work is
done: a command it times that fails ends it (exit 1) with the command and its error."""
import os
import time

from nnlab.child import run_captured


def run_timed(argv, env=None):
    """(wall seconds, stdout) of the command `argv`; if it fails, the bench stops: exit 1,
    the command and the last line of its stderr, never a time for failed work."""
    start = time.perf_counter()
    code, out, err = run_captured(argv, env=None if env is None else dict(os.environ, **env))
    seconds = time.perf_counter() - start
    if code != 0:
        last = (err.strip().splitlines() or ['(nothing on stderr)'])[-1]
        command = ' '.join(os.path.basename(a) if i < 2 else a for i, a in enumerate(argv))
        raise SystemExit(f"error: the benchmarked command failed (exit {code}): {command}: "
                         f"{last}")
    return seconds, out
