"""A hand-designed weights file, `check_main.py --weights FILE` (also what the explore
page's Part 2 saves and loads): one JSON object holding the four arrays by name,

    {"in_hid_weight": [[wx, wy], ...], "hid_bias": [...], "hid_out_weight": [[...]],
     "out_bias": [b]}

The file is the course's, written by hand, so it carries no format key; its hidden size
is the number of rows of in_hid_weight. The rules here (`shape_of`, `CheckWeights.read`)
are also those of check.py's weights section (nnlab/perceptron/weights.py), and the
page's part2.js weightsProblem repeats them: tests/test_explore.py feeds the same bad
files (tests/bad_weights.py) to both and compares the reasons.
"""
import json
import math
from dataclasses import dataclass
from typing import ClassVar

from nnlab.formats import schema
from nnlab.formats.schema import FormatError

MAX_WEIGHT = 1e6        # with --scale up to 1e6 the products stay far from float32's limit
MAX_BYTES = 10_000_000
NAMES = ('in_hid_weight', 'hid_bias', 'hid_out_weight', 'out_bias')
HINT = ('it must hold {"in_hid_weight": [[wx, wy], ...], "hid_bias": [...], '
        '"hid_out_weight": [[...]], "out_bias": [b]}')


def shape_of(value, where):
    """The shape of a nested list of numbers; FormatError for ragged lists, non-numbers,
    numbers that are not finite or beyond +-MAX_WEIGHT."""
    if isinstance(value, list):
        if not value:
            raise FormatError(f"{where} is an empty list")
        shapes = {shape_of(item, where) for item in value}
        if len(shapes) != 1:
            raise FormatError(f"{where} has rows of different lengths")
        return (len(value),) + shapes.pop()
    # bool is an int in Python, but `true` in a weights file is surely a mistake.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        shown = json.dumps(value)
        raise FormatError(f"{where} contains {shown}, which is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise FormatError(f"{where} contains {value}, which is not a finite number")
    if abs(value) > MAX_WEIGHT:     # an int of 400 digits too (no float conversion)
        shown = (f"{value:g}" if isinstance(value, float)
                 else f"an integer of {len(str(value))} digits")
        raise FormatError(f"{where} contains {shown}, beyond +-{MAX_WEIGHT:g}")
    return ()


def shapes_of(hid):
    """{name: shape} of the four arrays of a 2 -> hid -> 1 network."""
    return {'in_hid_weight': (hid, 2), 'hid_bias': (hid,), 'hid_out_weight': (1, hid),
            'out_bias': (1,)}


@dataclass
class CheckWeights:
    """The four arrays as nested lists, checked; `hid` their hidden size."""
    FORMAT: ClassVar[str] = 'check-weights (the course\'s, no version key)'
    in_hid_weight: list
    hid_bias: list
    hid_out_weight: list
    out_bias: list

    @property
    def hid(self):
        return len(self.in_hid_weight)

    def arrays(self):
        return {name: getattr(self, name) for name in NAMES}

    @classmethod
    def from_data(cls, data, expected=shapes_of):
        """CheckWeights from parsed JSON; FormatError(reason) naming the array.
        `expected(hid)` gives the shapes (check.py's weight_shapes)."""
        if not isinstance(data, dict):
            raise FormatError("it does not hold a JSON object")
        missing = [name for name in NAMES if name not in data]
        if missing:
            raise FormatError(f"it misses {', '.join(missing)}")
        unknown = sorted(set(data) - set(NAMES))
        if unknown:
            raise FormatError(f"it has unknown keys {', '.join(unknown)}")
        shapes = {name: shape_of(data[name], name) for name in NAMES}
        hid = shapes['in_hid_weight'][0] if shapes['in_hid_weight'] else 0
        wanted = expected(hid)
        for name in NAMES:
            if shapes[name] != tuple(wanted[name]):
                raise FormatError(f"{name} has shape {list(shapes[name])} but in_hid_weight "
                                  f"has {hid} rows, so it must be {list(wanted[name])}")
        return cls(**{name: data[name] for name in NAMES})

    @classmethod
    def read(cls, path, expected=shapes_of):
        """The weights in the file at `path`; FormatError(reason), ending with HINT when
        the file was read but is not weights."""
        raw = schema.read_bytes(path, MAX_BYTES)        # its reasons say nothing of HINT
        try:
            return cls.from_data(schema.parse_json(raw), expected)
        except FormatError as err:
            raise FormatError(f"{err}; {HINT}") from None
