"""One run at a time writes a set of outputs: the output lock `{folder}/.{name}.lock`,
its holder recorded in its format (nnlab/formats/output_lock.py)."""
import contextlib
import datetime
import os
import time

from nnlab import files, machine
from nnlab.cli import UserError
from nnlab.formats import output_lock, schema


class HeldElsewhere(UserError):
    """Another live run holds the lock."""


class OutputLock:
    """One run at a time writes a set of outputs: `{folder}/.{name}.lock` says which run
    (host, process id, start time) holds them. A second run meanwhile is refused (the two
    would mix their files); a lock whose run has certainly ended (killed, on this host) is
    taken over. On another host's lock we cannot tell, and the message says whose it is."""

    def __init__(self, folder, name, what):
        self.path = os.path.join(folder, f'.{name}.lock')
        self.folder, self.what, self.held = folder, what, False
        self.me = machine.this_process()

    def __enter__(self):
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.holder()
                if holder is None:                      # being written, or damaged
                    if self._young():
                        time.sleep(0.2)
                        continue
                elif machine.alive(holder.host, holder.pid, holder.started):
                    raise HeldElsewhere(f"another run ({describe_holder(holder)}) is writing "
                                    f"{self.what} in {self.folder!r} now; wait for it to "
                                    f"finish or choose another folder (if no run is, delete "
                                    f"{self.path})")
                with contextlib.suppress(OSError):      # its writer is gone
                    os.remove(self.path)
                continue
            except OSError as err:
                raise UserError(f"cannot write into {self.folder!r} ({files.reason(err)}); "
                                f"choose another folder")
            host, pid, started = self.me
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                f.write(schema.dumps(output_lock.LockHolder(host=host, pid=pid, started=started,
                                                            since=time.time())))
            self.held = True
            return self
        raise UserError(f"cannot take the lock {self.path!r}; delete it if no run is "
                        f"writing {self.what}")

    def _young(self, seconds=2.0):
        try:
            return time.time() - os.path.getmtime(self.path) < seconds
        except OSError:
            return False

    def holder(self):
        """The LockHolder of the lock's run, or None (unreadable, or being written)."""
        try:
            return schema.load(self.path, output_lock.LockHolder, limit=4096)
        except schema.FormatError:
            return None

    def __exit__(self, *exc):
        holder = self.holder() if self.held else None
        if holder and (holder.host, holder.pid) == self.me[:2]:
            with contextlib.suppress(OSError):
                os.remove(self.path)
        self.held = False


def describe_holder(holder):
    """'process 4242 on node7, since 2026-12-02 10:31' of a LockHolder."""
    since = holder.since or holder.started
    when = ''
    if since is not None:
        when = ', since ' + datetime.datetime.fromtimestamp(since).strftime('%Y-%m-%d %H:%M')
    return f"process {holder.pid} on {holder.host}{when}"
