"""Files every part writes: output folders on demand, atomic writes, moving old runs aside.

Every file is written to a temporary file in its folder, then renamed into place, so a
crash, a signal or a full disk never leaves a half-written file under its final name.
Temporary names carry the writer's process id: a temporary file whose process is gone
(killed with SIGKILL mid-write) is removed by the next write into that folder.
"""
import contextlib
import glob
import json
import os
import re
import tempfile
import time

from nnlab.cli import UserError

TEMP_MARK = '.tmp-'             # in every temporary name: .{name}.tmp-{pid}-XXXX{ext}
_TEMP_RE = re.compile(r'^\..+\.tmp-(\d+)-[^.]+(\.[^.]*)?$')


def _reason(err):
    return err.strerror or str(err)


def ensure_dir(path):
    """Create an output folder on demand; fail with one line if it cannot be written."""
    path = os.fspath(path)
    if not path:
        raise UserError("an output folder name is empty; give a folder name")
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"cannot create folder {path!r} (a file of that name is in the "
                        f"way); choose another folder or move the file")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create folder {path!r} ({_reason(err)}); "
                        f"choose another folder or fix its permissions")
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"cannot write into folder {path!r}; "
                        f"choose another folder or fix its permissions")
    return path


def check_writable_file(path, flag):
    """Fail now, not after the training, if `path` cannot become a file."""
    path = os.fspath(path)
    if not path:
        raise UserError(f"{flag} is empty; give a file name")
    if os.path.isdir(path):
        raise UserError(f"{flag} {path!r} is a folder; give a file name, e.g. "
                        f"{os.path.join(path, 'model.pth')}")
    folder = ensure_dir(os.path.dirname(os.path.abspath(path)))
    probe_temporary(folder, path)
    return path


def probe_temporary(folder, path):
    """Create and remove a temporary file where `path` will go (some folders, like /proc,
    accept neither); a UserError naming the folder if it cannot be done."""
    try:
        fd, tmp = tempfile.mkstemp(prefix='.probe' + TEMP_MARK, dir=folder)
        os.close(fd)
        os.remove(tmp)
    except OSError as err:
        raise UserError(f"cannot write files into {folder!r} ({_reason(err)}), needed "
                        f"for {path!r}; choose another folder")


def _remove_orphans(folder):
    """Remove temporary files left by writers that no longer run (SIGKILL mid-write)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            match = _TEMP_RE.match(name)
            if match and TEMP_MARK in name and not _alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(folder, name))


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True             # exists, but not ours
    return True


def atomic_write(path, write):
    """Write a file via a temporary file in the same folder, then rename it into place.

    `write(tmp_path)` does the writing. A failure midway leaves the old file (if any)
    untouched and no temporary file behind; an OSError becomes one UserError line.
    """
    path = os.fspath(path)
    folder = ensure_dir(os.path.dirname(os.path.abspath(path)))
    if os.path.isdir(path):
        raise UserError(f"cannot write {path!r}: it is a folder; move it or choose "
                        f"another name")
    _remove_orphans(folder)
    base, ext = os.path.splitext(os.path.basename(path))
    tmp = None
    try:
        # Keep the extension: writers such as savefig pick the format from it.
        fd, tmp = tempfile.mkstemp(prefix=f".{base}{TEMP_MARK}{os.getpid()}-",
                                   suffix=ext, dir=folder)
        os.close(fd)
        write(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as err:
        raise UserError(f"cannot write {path!r} ({_reason(err)}); check the folder and "
                        f"free disk space")
    finally:
        if tmp is not None and os.path.exists(tmp):
            with contextlib.suppress(OSError):
                os.remove(tmp)
    return path


def atomic_write_text(path, text):
    def write(tmp):
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
    return atomic_write(path, write)


def atomic_write_json(path, data):
    return atomic_write_text(path, json.dumps(data, indent=1, allow_nan=False) + '\n')


def read_json(path):
    """A JSON object from `path`, or None (missing, unreadable, nested too deep, not an
    object): for files other runs leave, which may be absent or damaged."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def atomic_torch_save(obj, path):
    import torch
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


class OutputLock:
    """One run at a time writes a set of outputs: `{folder}/.{name}.lock` holds the
    writer's process id while it runs. A second run meanwhile is refused (the two would
    mix their files); a lock whose process is gone (killed) is taken over."""

    def __init__(self, folder, name, what):
        self.path = os.path.join(folder, f'.{name}.lock')
        self.folder, self.what, self.held = folder, what, False

    def __enter__(self):
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and _alive(holder) and holder != os.getpid():
                    raise UserError(f"another run (process {holder}) is writing {self.what} "
                                    f"in {self.folder!r} now; wait for it to finish or "
                                    f"choose another folder")
                with contextlib.suppress(OSError):      # its writer is gone
                    os.remove(self.path)
                continue
            except OSError as err:
                raise UserError(f"cannot write into {self.folder!r} ({_reason(err)}); "
                                f"choose another folder")
            with os.fdopen(fd, 'w') as f:
                f.write(str(os.getpid()))
            self.held = True
            return self
        raise UserError(f"cannot take the lock {self.path!r}; remove it if no run is "
                        f"writing {self.what}")

    def _holder(self):
        try:
            with open(self.path) as f:
                return int(f.read().strip() or -1)
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc):
        if self.held and self._holder() == os.getpid():
            with contextlib.suppress(OSError):
                os.remove(self.path)
        self.held = False


def move_aside(paths, folder, why):
    """Move existing `paths` into `folder/previous-YYYYmmdd-HHMMSS/` so a new run does not
    mix its files with an earlier run's; returns the subfolder (None if nothing moved)."""
    existing = [p for p in paths if os.path.isfile(p)]
    if not existing:
        return None
    stamp = time.strftime('%Y%m%d-%H%M%S')
    target = os.path.join(folder, f'previous-{stamp}')
    suffix = 1
    while os.path.exists(target):
        suffix += 1
        target = os.path.join(folder, f'previous-{stamp}-{suffix}')
    ensure_dir(target)
    for path in existing:
        try:
            os.replace(path, os.path.join(target, os.path.basename(path)))
        except OSError as err:
            raise UserError(f"cannot move the earlier run's {path!r} aside "
                            f"({_reason(err)}); move it yourself or choose another folder")
    print(f"note: moved {len(existing)} file(s) of an earlier run ({why}) to {target}",
          flush=True)
    return target


def matching(folder, pattern):
    """Files in `folder` whose names match a glob `pattern` (the folder taken literally)."""
    return sorted(glob.glob(os.path.join(glob.escape(os.fspath(folder) or '.'), pattern)))
