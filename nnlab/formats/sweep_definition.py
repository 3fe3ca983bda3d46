"""A sweep folder's definition, `DIR/sweep.json`: the script, its fixed flags, the grid
and the seeds; what `sweep.py --resume` continues and `--report` summarises."""
from dataclasses import dataclass, field

from nnlab.formats import schema


@dataclass
class GridAxis:
    """One flag of the grid and its values, e.g. hid=2,3,4."""
    name: str
    values: list[str]

    def problem(self):
        if not self.values:
            return f"the grid's {self.name!r} has no values"
        return None


@dataclass(kw_only=True)
class SweepDefinition(schema.Document, format='nnlab-sweep-2', older=('nnlab-sweep-1',)):
    script: str
    script_args: list[str] = field(default_factory=list)
    grid: list[GridAxis] = field(default_factory=list)
    seeds: str = ''                   # as sweep.py --seeds takes them, e.g. '0-255'
    command: str = ''                 # the command that makes this sweep

    @classmethod
    def upgrade(cls, data, found):
        """The first version kept the grid as [[name, [values]], ...]."""
        grid = data.get('grid')
        if isinstance(grid, list) and all(isinstance(g, list) and len(g) == 2 for g in grid):
            data = dict(data, grid=[{'name': n, 'values': v} for n, v in grid])
        return data
