"""The sweep's plan: its definition (script, flags, grid, seeds), its settings and tasks.

A *setting* is one combination of --grid values (the cross product of the grid); a
*row* is one setting and one seed; a *task* is one process: one setting and a block of
consecutive seeds, trained with `--seed S --restarts K` where the script allows it.

Every flag is checked here, before anything runs, by the script's own parse_args: a grid
name the script does not have or a value it refuses is one line, not a sweep of failures.
Only the standard library is imported.
"""
import argparse
import difflib
import hashlib
import itertools
import math
import re
from dataclasses import dataclass

from nnlab.cli import UserError
from nnlab.formats.sweep_definition import GridAxis, SweepDefinition
from nnlab.seeds import MAX_SEED
from nnlab.sweep.scripts import find_kind

MAX_ROWS = 1_000_000      # results.csv is rewritten after every task: keep it a small file
MAX_AUTO_BLOCK = 8        # seeds per process unless --block says otherwise (see auto_block)


# ---- seeds ---------------------------------------------------------------------------------

def parse_seeds(text):
    """'0-255', '1,5,9' or '0-7,100-103' -> the sorted seeds, each once."""
    seeds = set()
    for part in text.split(','):
        match = re.fullmatch(r'\s*(\d+)\s*(?:-\s*(\d+)\s*)?', part)
        if not match:
            raise UserError(f"--seeds {text!r}: expected a range A-B or a list such as "
                            f"0-15 or 1,5,9 (whole numbers), got {part.strip()!r}")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise UserError(f"--seeds {text!r}: the range {first}-{last} runs backwards; "
                            f"write {last}-{first}")
        if last > MAX_SEED:
            raise UserError(f"--seeds {text!r}: seeds go up to {MAX_SEED} (2**32-1)")
        if last - first + 1 + len(seeds) > MAX_ROWS:
            raise UserError(f"--seeds {text!r}: more than {MAX_ROWS:,} seeds")
        seeds.update(range(first, last + 1))
    return sorted(seeds)


def format_seeds(seeds):
    """The inverse of parse_seeds: [0, 1, 2, 5] -> '0-2,5'."""
    return ','.join(str(first) if first == last else f'{first}-{last}'
                    for first, last in consecutive_runs(seeds))


def consecutive_runs(seeds):
    """(first, last) of each run of consecutive seeds in a sorted list."""
    # seed - position is the same all along a run of consecutive seeds
    runs = [[seed for _, seed in pairs] for _, pairs in
            itertools.groupby(enumerate(seeds), key=lambda pair: pair[1] - pair[0])]
    return [(run[0], run[-1]) for run in runs]


def blocks(seeds, size):
    """Split sorted seeds into blocks of at most `size` consecutive seeds (what one
    `--seed S --restarts K` process trains)."""
    return [tuple(range(start, min(start + size, last + 1)))
            for first, last in consecutive_runs(seeds)
            for start in range(first, last + 1, size)]


def auto_block(rows, workers, most=MAX_AUTO_BLOCK):
    """Seeds per process when --block is not given.

    A batched block of K seeds costs far less than K processes (each pays Python and torch
    start-up, and the trainers batch the K runs), so blocks are as large as possible while
    every worker still gets a task; at most 8 (`most`; the backend's), so that Ctrl-C loses
    little, rows arrive often and one stuck check_main.py restart holds up few others.
    """
    return max(1, min(most, math.ceil(rows / max(1, workers))))


# ---- the grid ------------------------------------------------------------------------------

def parse_grid(items):
    """['hid=2,3', 'lr=0.1'] -> [('hid', ('2', '3')), ('lr', ('0.1',))], in the order given."""
    grid = []
    for item in items:
        name, sep, values = item.partition('=')
        name = name.strip().lstrip('-')
        if not sep or not name:
            raise UserError(f"--grid {item!r}: expected NAME=V1,V2,... (NAME: a flag of the "
                            f"script without its dashes), e.g. --grid hid=2,3,4")
        values = tuple(v.strip() for v in values.split(','))
        if any(v == '' for v in values):
            raise UserError(f"--grid {name}=...: an empty value; separate values by single "
                            f"commas, e.g. {name}=2,3,4")
        repeated = first_repeated(values)
        if repeated:
            raise UserError(f"--grid {name}=...: {repeated[1][:40]} appears twice; give each "
                            f"value once")
        if name in (n for n, _ in grid):
            raise UserError(f"--grid {name} is given twice; put all its values in one: "
                            f"--grid {name}=V1,V2,...")
        grid.append((name, values))
        # Refused here, before any setting is built: a grid of 10**6 settings would
        # otherwise be parsed in full before the row limit says no.
        if math.prod(len(v) for _, v in grid) > MAX_ROWS:
            raise UserError(f"--grid: {math.prod(len(v) for _, v in grid):,} settings (the "
                            f"product of the value counts) is more than {MAX_ROWS:,}; "
                            f"give fewer values")
    return grid


def first_repeated(values, key=lambda value: value):
    """(earlier, value) for the first value whose key an earlier one had, or None."""
    seen = {}
    for value in values:
        same = key(value)
        if same in seen:
            return seen[same], value
        seen[same] = value
    return None


@dataclass(frozen=True)
class Setting:
    """One combination of grid values, e.g. (('hid', '3'), ('lr', '0.01'))."""
    values: tuple

    @property
    def key(self):
        return tuple(v for _, v in self.values)

    @property
    def label(self):
        return ' '.join(f'{n}={v}' for n, v in self.values) or '(no grid)'

    @property
    def argv(self):
        return [arg for n, v in self.values for arg in (f'--{n}', v)]

    @property
    def slug(self):
        """A folder name for this setting; a hash is added where the values needed
        changing to be a safe name, so two settings never share a folder."""
        raw = '_'.join(f'{n}-{v}' for n, v in self.values) or 'default'
        safe = re.sub(r'[^A-Za-z0-9.=+-]', '_', raw)[:80]
        if safe != raw:
            safe += '-' + hashlib.sha1(raw.encode()).hexdigest()[:8]
        return safe


def settings_of(grid):
    names = [n for n, _ in grid]
    return [Setting(tuple(zip(names, combo)))
            for combo in itertools.product(*(values for _, values in grid))]


@dataclass(frozen=True)
class Task:
    setting: Setting
    seeds: tuple

    @property
    def folder(self):
        """The task's folder under DIR (relative), e.g. runs/hid-3/seeds-8-15."""
        first, last = self.seeds[0], self.seeds[-1]
        name = f'seed-{first}' if first == last else f'seeds-{first}-{last}'
        return f'runs/{self.setting.slug}/{name}'

    @property
    def label(self):
        first, last = self.seeds[0], self.seeds[-1]
        seeds = f'seed {first}' if first == last else f'seeds {first}-{last}'
        return f'{self.setting.label}, {seeds}' if self.setting.values else seeds


# ---- the definition ------------------------------------------------------------------------

@dataclass
class Sweep:
    """What sweep.json records: enough to resume, extend or summarise the sweep."""
    script: str               # e.g. 'seq_train.py'
    script_args: list         # the script's fixed flags (after the --)
    grid: list                # [(name, (values...)), ...]
    seeds: list

    @property
    def kind(self):
        return find_kind(self.script)

    @property
    def grid_names(self):
        return [n for n, _ in self.grid]

    @property
    def settings(self):
        return settings_of(self.grid)

    @property
    def setting_count(self):
        return math.prod(len(values) for _, values in self.grid)

    @property
    def command(self):
        grid = [f'--grid {n}={",".join(v)}' for n, v in self.grid]
        return ' '.join(['python3 sweep.py', f'--seeds {format_seeds(self.seeds)}', *grid,
                         '--', self.script, *self.script_args])

    def same_kind_of_rows(self, other):
        """True if other's rows can share one results.csv with ours: the same script, the
        same fixed flags and the same grid names (seeds and grid values may differ)."""
        return (self.script, list(self.script_args), self.grid_names) == \
            (other.script, list(other.script_args), other.grid_names)

    def to_definition(self):
        return SweepDefinition(script=self.script, script_args=list(self.script_args),
                               grid=[GridAxis(n, list(v)) for n, v in self.grid],
                               seeds=format_seeds(self.seeds), command=self.command)

    @classmethod
    def from_definition(cls, definition):
        """The Sweep a SweepDefinition describes; UserError naming the key that is off."""
        try:
            seeds = parse_seeds(definition.seeds)
            grid = parse_grid([f'{a.name}={",".join(a.values)}' for a in definition.grid])
        except UserError as err:
            raise UserError(f"seeds or grid: {err}")
        return cls(script=definition.script, script_args=list(definition.script_args),
                   grid=grid, seeds=seeds)


# ---- checking the flags with the script's parser -------------------------------------------

def check_flags(sweep):
    """Check the script's fixed flags and the grid with the script's own parser; return
    {setting: parsed args} (the parsed flags of each setting, e.g. to decide blocks)."""
    kind = sweep.kind
    parser = kind.build_parser()

    fixed = set()
    for token in sweep.script_args:
        action = parser.flag(token) if token.startswith('--') else None
        if action is None:
            continue            # a value, or a flag the script lacks: its parse below says so
        why = kind.why_refused(action.dest)
        if why:
            raise UserError(f"{token.split('=')[0]} is not for a sweep's script flags: {why}")
        fixed.add(action.dest)

    for name, values in sweep.grid:
        action = parser.flag(f'--{name}')
        if action is None or f'--{name}' not in action.option_strings:
            close = difflib.get_close_matches(name, [o[2:] for o in parser.options()], n=1)
            hint = f" (did you mean --grid {close[0]}=...?)" if close else \
                f"; see {kind.name} --help"
            raise UserError(f"--grid {name}: {kind.name} has no flag --{name}{hint}")
        why = kind.why_refused(action.dest)
        if why:
            raise UserError(f"--grid {name}: the sweep sets --{name} itself ({why})")
        if action.nargs == 0:
            raise UserError(f"--grid {name}: --{name} takes no value; put it in the script's "
                            f"flags after the -- (or leave it out)")
        if action.dest in fixed:
            raise UserError(f"--{name} is both in --grid and in the script's flags; keep one")
        same = same_after_parsing(action, values)
        if same:
            raise UserError(f"--grid {name}: {same[0]} and {same[1]} are the same value for "
                            f"{kind.name}; give it once")

    parsed = {}
    for setting in sweep.settings:
        argv = [*sweep.script_args, *setting.argv, '--seed', str(sweep.seeds[0])]
        try:
            parsed[setting] = kind.parse_args(argv)
        except UserError as err:
            where = f"setting {setting.label}: " if setting.values else ''
            raise UserError(f"{where}{kind.name} refuses its flags: {err}")
    return parsed


def same_after_parsing(action, values):
    """Two grid values the script reads as one (e.g. hid=2,02), or None. A value the
    flag's type refuses is left to the script's own parse, which names the problem."""
    def read(text):
        try:
            value = action.type(text) if callable(action.type) else text
        except (ValueError, TypeError, UserError, argparse.ArgumentTypeError):
            return object()         # the same as no other value
        try:
            hash(value)
        except TypeError:
            return repr(value)
        return value
    return first_repeated(values, read)
