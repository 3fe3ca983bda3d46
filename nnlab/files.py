"""Files every part writes: output folders on demand, atomic writes, moving old runs aside.

Every file is written to a temporary file in its folder, then renamed into place
(`os.replace`, which also replaces on Windows), so a crash, a signal or a full disk never
leaves a half-written file under its final name. Temporary names carry the writer's host
and process id: a temporary file of this host whose process is gone (killed mid-write) is
removed by the next write into that folder.
"""
import contextlib
import glob
import os
import re
import tempfile
import time

from nnlab import machine
from nnlab.cli import UserError

TEMP_MARK = '.tmp-'             # in every temporary name: .{name}.tmp-{host}-{pid}-XXXX{ext}
_TEMP_RE = re.compile(r'^\..+\.tmp-([0-9a-f]{8})-(\d+)-[^.]+(\.[^.]*)?$')


def reason(err):
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
        raise UserError(f"cannot create folder {path!r} ({reason(err)}); "
                        f"choose another folder or fix its permissions")
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"cannot write into folder {path!r}; "
                        f"choose another folder or fix its permissions")
    return path


def check_writable_file(path, flag=None):
    """Fail now, not after the training, if `path` cannot become a file; `flag`, the flag
    that named it, also refuses an empty name and a folder."""
    path = os.fspath(path)
    if flag and not path:
        raise UserError(f"{flag} is empty; give a file name")
    if flag and os.path.isdir(path):
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
        raise UserError(f"cannot write files into {folder!r} ({reason(err)}), needed "
                        f"for {path!r}; choose another folder")


def _remove_orphans(folder):
    """Remove temporary files this host's writers left when they were killed mid-write."""
    here = machine.host_tag()
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            match = _TEMP_RE.match(name)
            if match and match.group(1) == here and \
                    not machine.alive(machine.host_name(), int(match.group(2))):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(folder, name))


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
        fd, tmp = tempfile.mkstemp(prefix=f".{base}{TEMP_MARK}{machine.host_tag()}-"
                                          f"{os.getpid()}-",
                                   suffix=ext, dir=folder)
        os.close(fd)
        write(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as err:
        raise UserError(f"cannot write {path!r} ({reason(err)}); check the folder and "
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


def atomic_torch_save(obj, path):
    import torch
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


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
                            f"({reason(err)}); move it yourself or choose another folder")
    print(f"note: moved {len(existing)} file(s) of an earlier run ({why}) to {target}",
          flush=True)
    return target


def matching(folder, pattern):
    """Files in `folder` whose names match a glob `pattern` (the folder taken literally)."""
    return sorted(glob.glob(os.path.join(glob.escape(os.fspath(folder) or '.'), pattern)))
