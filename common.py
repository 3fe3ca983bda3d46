"""Things every entry script needs: clean failures, seeds, booleans, atomic files.

Entry scripts look like

    def main(argv=None):
        args = parse_args(argv)
        ...

    if __name__ == '__main__':
        run_cli(main)

and raise `UserError("what is wrong; how to fix it")` for bad input. `run_cli` turns that
into one line on stderr and exit code 2, and Ctrl-C into a short note and exit code 130,
never a traceback.
"""
import argparse
import os
import random
import sys
import tempfile

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """Bad input a user can fix: printed as one line, exit code 2."""


def run_cli(main, argv=None):
    """Run `main(argv)` and map failures to one clear line and an exit code."""
    try:
        code = main(argv)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        # Work that finished was written atomically as it finished, so nothing is lost.
        print("\ninterrupted: stopped by Ctrl-C; files already written are complete.",
              file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # `python3 script.py | head` is a normal thing to do; stay quiet.
        sys.stderr.close()
        sys.exit(0)
    sys.exit(code or 0)


def str2bool(text):
    """argparse type for real booleans: `--embed False` means False."""
    value = str(text).strip().lower()
    if value in ('1', 'true', 't', 'yes', 'y', 'on'):
        return True
    if value in ('0', 'false', 'f', 'no', 'n', 'off'):
        return False
    import argparse
    raise argparse.ArgumentTypeError(f"expected a boolean (True/False), got {text!r}")


def positive_int(text):
    """argparse type: an integer >= 1."""
    import argparse
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def nonneg_float(text):
    """argparse type: a finite float >= 0."""
    import argparse
    import math
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def set_seed(seed):
    """Seed every generator we use, so a seed gives the same printed numbers."""
    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def ensure_dir(path):
    """Create an output folder on demand; fail with one line if it cannot be written."""
    path = os.fspath(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create folder {path!r} ({err.strerror}); "
                        f"choose another folder or fix its permissions")
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"cannot write into folder {path!r}; "
                        f"choose another folder or fix its permissions")
    return path


def atomic_write(path, write):
    """Write a file via a temporary file in the same folder, then rename it into place.

    `write(tmp_path)` does the writing. A crash or Ctrl-C midway leaves the old file (if
    any) untouched and no half-written file behind.
    """
    path = os.fspath(path)
    folder = ensure_dir(os.path.dirname(os.path.abspath(path)))
    base, ext = os.path.splitext(os.path.basename(path))
    # Keep the extension: writers such as savefig pick the format from it.
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".tmp{ext}", dir=folder)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as err:
        raise UserError(f"cannot write {path!r} ({err.strerror or err}); "
                        f"check the folder and free disk space")
    finally:
        if os.path.exists(tmp):
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


class CliParser(argparse.ArgumentParser):
    """argparse.ArgumentParser whose errors are one line: raises UserError (via run_cli:
    `error: ...`, exit code 2) instead of printing the usage block."""

    def error(self, message):
        raise UserError(f"{message}; see {self.prog} --help")
