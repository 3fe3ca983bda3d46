"""Hand-designed weights, checked in full: check.py's weights section, or a JSON file
(`check_main.py --weights FILE`).

Both hold the four arrays by name; the hidden size is taken from them. Every problem
(missing or unknown names, ragged rows, shapes that do not fit together or --hid, values
that are not finite numbers or too large to stay finite once scaled) is one error line
naming the file (and for check.py the line) and what to fix.
"""
import ast
import json
import math
import os

import torch

from nnlab import student
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
    weight_names, weight_shapes = _names()
    missing = [name for name in weight_names if name not in data]
    unknown = sorted(set(data) - set(weight_names))
    if missing or unknown:
        problem = (f"misses {', '.join(missing)}" if missing
                   else f"has unknown keys {', '.join(unknown)}")
        raise UserError(f"weights file {path!r} {problem}" + fix)
    try:
        shapes = {name: _shape_of(data[name], name) for name in weight_names}
        hid = shapes['in_hid_weight'][0] if shapes['in_hid_weight'] else 0
        expected = weight_shapes(hid)
        for name in weight_names:
            if shapes[name] != expected[name]:
                raise UserError(f"{name} has shape {list(shapes[name])} but "
                                f"in_hid_weight has {hid} rows, so it must be "
                                f"{list(expected[name])}")
    except UserError as err:
        raise UserError(f"weights file {path!r}: {err}" + fix)
    return {name: torch.tensor(data[name], dtype=torch.float32) for name in weight_names}


def _names():
    """check.py's WEIGHT_NAMES and weight_shapes (the names the weights travel by)."""
    check = student.load('check', need=('WEIGHT_NAMES', 'weight_shapes'))
    return check.WEIGHT_NAMES, check.weight_shapes


# The weights section of check.py: a module-level list for each weight, by name.
SECTION = {'in_hid_weight': 'IN_HID_WEIGHT', 'hid_bias': 'HID_BIAS',
           'hid_out_weight': 'HID_OUT_WEIGHT', 'out_bias': 'OUT_BIAS'}


def _assigned_lines(path):
    """{NAME: line} of the module-level assignments in the file at `path`."""
    try:
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return {}
    lines = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name):
                lines[target.id] = node.lineno
    return lines


def section_weights(hid=None):
    """(the four tensors of check.py's weights section, its hidden size); checked like a
    weights file, each problem one StudentError with check.py's line. `hid` (--hid, None
    when not given) must equal the section's hidden size."""
    check = student.load('check')
    shown = student.path('check')
    lines = _assigned_lines(check.__file__)
    names = ', '.join(SECTION.values())

    def at(constant):
        line = lines.get(constant)
        return f"in {shown}, line {line}" if line else f"in {shown}"

    missing = [c for c in SECTION.values() if not hasattr(check, c)]
    if missing:
        raise student.StudentError(f"{shown}'s weights section has no {', '.join(missing)}; "
                                   f"it must define the four lists {names} (nested lists "
                                   f"of numbers)", shown)
    shapes, values = {}, {}
    for name, constant in SECTION.items():
        value = getattr(check, constant)
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            kind = type(value).__name__
            raise student.StudentError(f"{at(constant)}: {constant} is a {kind}, not a list "
                                       f"of numbers; the weights section is the four lists "
                                       f"{names}", shown, lines.get(constant))
        try:
            shapes[name] = _shape_of(value, constant)
        except UserError as err:
            raise student.StudentError(f"{at(constant)}: {err}", shown,
                                       lines.get(constant)) from None
        values[name] = value
    rows = shapes['in_hid_weight']
    section_hid = rows[0] if rows else 0
    expected = _names()[1](section_hid)
    for name, constant in SECTION.items():
        if shapes[name] != expected[name]:
            because = (f"IN_HID_WEIGHT has {section_hid} rows, so it must be "
                       if name != 'in_hid_weight' else "it must be ")
            raise student.StudentError(f"{at(constant)}: {constant} has shape "
                                       f"{list(shapes[name])} but {because}"
                                       f"{list(expected[name])}", shown, lines.get(constant))
    if hid is not None and hid != section_hid:
        raise student.StudentError(f"{at('IN_HID_WEIGHT')}: the weights section has "
                                   f"{section_hid} hidden units (the rows of IN_HID_WEIGHT), "
                                   f"not --hid {hid}; use --hid "
                                   f"{section_hid} (or none) or change the section", shown,
                                   lines.get('IN_HID_WEIGHT'))
    return {name: torch.tensor(values[name], dtype=torch.float32) for name in SECTION}, \
        section_hid
