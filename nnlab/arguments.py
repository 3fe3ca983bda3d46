"""Argument types and checks for every script: each kind of value means one thing everywhere.

- a seed is a whole number in 0..2**32-1 (numpy's seeds stop there), and with
  `--restarts K` so is seed+K-1;
- a learning rate is a finite number above 0; momentum finite, at least 0 and below 1
  (at 1 and above SGD's steps grow without end);
- a size (hidden units, restarts, counts) is a whole number from 1 to a bound that keeps
  memory and time sane; each flag's help says which bound and why.

Bad values become one line through `CliParser.error` -> UserError -> run_cli.
Only the standard library is imported here.
"""
import argparse
import math
from dataclasses import fields

from nnlab.cli import UserError
from nnlab.seeds import MAX_SEED, resolve_seed


class CliParser(argparse.ArgumentParser):
    """argparse.ArgumentParser whose errors are one line: raises UserError (via run_cli:
    `error: ...`, exit code 2) instead of printing the usage block. It also keeps the
    flags it was given (`flags`: the argparse actions `add_argument` returned), so that
    sweep.py can check a script's flags with the script's own definitions."""

    def __init__(self, *args, **kwargs):
        self.flags = []                 # before argparse adds --help
        self.ready = False              # argparse makes groups of its own while starting
        super().__init__(*args, **kwargs)
        self.ready = True

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        self.flags.append(action)
        return action

    def add_argument_group(self, *args, **kwargs):
        group = super().add_argument_group(*args, **kwargs)
        return _Group(self, group) if self.ready else group

    def error(self, message):
        raise UserError(f"{message}; see {self.prog} --help")

    def flag(self, token):
        """The flag a `--name` or `--name=value` token selects (argparse also takes a
        unique prefix), or None."""
        option = token.split('=', 1)[0]
        exact = [a for a in self.flags if option in a.option_strings]
        if exact:
            return exact[0]
        prefixed = [a for a in self.flags
                    if any(o.startswith(option) for o in a.option_strings)]
        return prefixed[0] if len(prefixed) == 1 else None

    def options(self):
        """Every --name the parser takes."""
        return [o for a in self.flags for o in a.option_strings if o.startswith('--')]


class _Group:
    """An argument group that tells its parser about the flags added to it."""

    def __init__(self, parser, group):
        self.parser, self.group = parser, group

    def add_argument(self, *args, **kwargs):
        action = self.group.add_argument(*args, **kwargs)
        self.parser.flags.append(action)
        return action

    def __getattr__(self, name):
        return getattr(self.group, name)


def _type(name, parse):
    """Name an argparse type function (argparse shows the name in some messages)."""
    parse.__name__ = name
    return parse


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")


def whole(low, high, why):
    """A whole number in low..high; `why` says what the upper bound protects."""
    def parse(text):
        value = _int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:,} ({why}), got {value:,}")
        return value
    parse.low, parse.high = low, high
    parse.bounds = f"{low}..{high:,}: {why}"
    return _type('whole number', parse)


def number(low=None, high=None, low_open=False, high_open=False, what='a number'):
    """A finite float within [low, high] (open ends where asked)."""
    def parse(text):
        value = _float(text)
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value
    return _type(what, parse)


seed = _type('seed', whole(0, MAX_SEED, 'numpy seeds are 32-bit'))
learning_rate = number(0.0, None, low_open=True, what='a finite number above 0')
momentum = number(0.0, 1.0, high_open=True, what='a finite number, at least 0 and below 1')
nonnegative = number(0.0, 1e6, what='a finite number from 0 to 1e6')
positive = number(0.0, 1e6, low_open=True, what='a finite number above 0 (at most 1e6)')


def folder(text):
    """A folder's name (not empty: '' would mean the current folder by accident)."""
    if not str(text).strip():
        raise argparse.ArgumentTypeError("the folder name is empty; give a folder name")
    return text


def add_page_folders(parser, out, what):
    """--plot_dir, --net_dir and --out of the pages built from the runs' files
    (report.py, explore.py): read only inside the first two, write into the third."""
    parser.add_argument('--plot_dir', type=folder, default='plot',
                        help='where the runs put pictures and records (default plot)')
    parser.add_argument('--net_dir', type=folder, default='net',
                        help="where seq_train.py put checkpoints and records (default net)")
    parser.add_argument('--out', type=folder, default=out,
                        help=f'folder for {what} (default {out})')


def add_engine(parser):
    """--engine: which engine trains the student's model (nnlab/engine.py)."""
    from nnlab.engine import ENGINES
    parser.add_argument('--engine', choices=ENGINES, default='auto',
                        help="what trains the model: auto (the compiled kernel where a probe "
                             "shows your file computes what it does, else PyTorch autograd), "
                             "compiled, or torch (docs/your-code.md; default auto)")


def str2bool(text):
    """A real boolean: `--embed False` means False."""
    value = str(text).strip().lower()
    if value in ('1', 'true', 't', 'yes', 'y', 'on'):
        return True
    if value in ('0', 'false', 'f', 'no', 'n', 'off'):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean (True/False), got {text!r}")


def parse(parser, argv):
    """parser.parse_args, then the checks that span flags: with --seed S --restarts K, the
    seeds S..S+K-1 must all be valid seeds (no seed given: nothing to check)."""
    args = parser.parse_args(argv)
    first, count = getattr(args, 'seed', None), getattr(args, 'restarts', 1)
    if first is not None and first + count - 1 > MAX_SEED:
        raise UserError(f"--seed {first} with --restarts {count} needs seeds up to "
                        f"{first + count - 1}, above {MAX_SEED} (2**32-1); use a smaller --seed")
    return args


def config_from(config_class, args, **given):
    """A run's config dataclass from the parsed flags of the same names, plus `given`.

    A config with a `seed_drawn` field is a run where the course says "run it again": with
    no --seed it gets a fresh seed (nnlab/seeds.py), and says so."""
    names = {f.name for f in fields(config_class)}
    if 'seed_drawn' in names and 'seed' not in given:
        given['seed'], given['seed_drawn'] = resolve_seed(args.seed, getattr(args, 'restarts', 1))
    return config_class(**{name: getattr(args, name) for name in names - set(given)
                           if hasattr(args, name)}, **given)


def seed_help(default_text):
    return f"random seed, a whole number 0..2**32-1 ({default_text}); the same seed " \
           f"prints the same numbers"
