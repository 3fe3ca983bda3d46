"""Hand-designed weights from a JSON file (`check_main.py --weights FILE`), checked in full.

The file holds the four arrays of check.py's weights block by name; the hidden size is
taken from it. Every problem (not JSON, missing or unknown names, ragged rows, shapes that
do not fit together, values that are not finite numbers or too large to stay finite once
scaled) is one UserError naming the file and what to fix.
"""
import json
import math
import os

import torch

from check import WEIGHT_NAMES, weight_shapes
from nnlab.cli import UserError

MAX_WEIGHT = 1e6        # with --scale up to 1e6 the products stay far from float32's limit
MAX_FILE_BYTES = 10_000_000


def _shape_of(value, where):
    """The shape of a nested list of numbers; UserError for ragged lists or non-numbers."""
    if isinstance(value, list):
        if not value:
            raise UserError(f"{where} is an empty list")
        shapes = {_shape_of(item, where) for item in value}
        if len(shapes) != 1:
            raise UserError(f"{where} has rows of different lengths")
        return (len(value),) + shapes.pop()
    # bool is an int in Python, but `true` in a weights file is surely a mistake.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{where} contains {json.dumps(value)}, which is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{where} contains {value}, which is not a finite number")
    if abs(value) > MAX_WEIGHT:     # an int of 400 digits too (no float conversion)
        shown = (f"{value:g}" if isinstance(value, float)
                 else f"an integer of {len(str(value))} digits")
        raise UserError(f"{where} contains {shown}, beyond +-{MAX_WEIGHT:g}")
    return ()


def load_weights_file(path):
    """Read the four weight arrays from a JSON file; one clear UserError if anything is off.

    The hidden size is taken from the file (the number of rows of in_hid_weight).
    """
    fix = (f'; fix {path}: it must hold {{"in_hid_weight": [[wx, wy], ...], '
           f'"hid_bias": [...], "hid_out_weight": [[...]], "out_bias": [b]}}')
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            raise UserError(f"weights file {path!r} is over {MAX_FILE_BYTES:,} bytes; "
                            f"it should hold four small arrays" + fix)
        with open(path, encoding='utf-8-sig') as f:
            data = json.load(f)
    except FileNotFoundError:
        raise UserError(f"weights file {path!r} not found; check the path")
    except OSError as err:
        raise UserError(f"cannot read weights file {path!r} ({err.strerror}); check the path")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"weights file {path!r} is not valid JSON ({err})" + fix)
    except RecursionError:
        raise UserError(f"weights file {path!r} is nested too deeply to be weights" + fix)
    except ValueError as err:   # e.g. an integer of thousands of digits
        raise UserError(f"weights file {path!r} holds a value Python cannot read ({err})"
                        + fix)
    if not isinstance(data, dict):
        raise UserError(f"weights file {path!r} does not hold a JSON object" + fix)
    missing = [name for name in WEIGHT_NAMES if name not in data]
    unknown = sorted(set(data) - set(WEIGHT_NAMES))
    if missing or unknown:
        problem = (f"misses {', '.join(missing)}" if missing
                   else f"has unknown keys {', '.join(unknown)}")
        raise UserError(f"weights file {path!r} {problem}" + fix)
    try:
        shapes = {name: _shape_of(data[name], name) for name in WEIGHT_NAMES}
        hid = shapes['in_hid_weight'][0] if shapes['in_hid_weight'] else 0
        expected = weight_shapes(hid)
        for name in WEIGHT_NAMES:
            if shapes[name] != expected[name]:
                raise UserError(f"{name} has shape {list(shapes[name])} but "
                                f"in_hid_weight has {hid} rows, so it must be "
                                f"{list(expected[name])}")
    except UserError as err:
        raise UserError(f"weights file {path!r}: {err}" + fix)
    return {name: torch.tensor(data[name], dtype=torch.float32) for name in WEIGHT_NAMES}
