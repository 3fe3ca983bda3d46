"""Hand-designed weights, checked in full: check.py's weights section, or a JSON file
(`check_main.py --weights FILE`).

Both hold the four arrays by name; the hidden size is taken from them. Every problem
(missing or unknown names, ragged rows, shapes that do not fit together or --hid, values
that are not finite numbers or too large to stay finite once scaled) is one error line
naming the file (and for check.py the line) and what to fix.
"""
import ast

import torch

from nnlab import student
from nnlab.cli import UserError
from nnlab.formats.check_weights import HINT, CheckWeights, FormatError, shape_of
from nnlab.formats.check_weights import MAX_WEIGHT as MAX_WEIGHT  # the page's bound too


def load_weights_file(path):
    """The four weight tensors of a JSON weights file (nnlab/formats/check_weights.py);
    one clear UserError if anything is off. The hidden size is taken from the file (the
    number of rows of in_hid_weight)."""
    try:
        weights = CheckWeights.read(path, _names()[1])
    except FormatError as err:
        fix = '' if str(err).endswith(HINT) else '; check the path'
        raise UserError(f"weights file {path!r}: {err}{fix}") from None
    return {name: torch.tensor(value, dtype=torch.float32)
            for name, value in weights.arrays().items()}


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
            shapes[name] = shape_of(value, constant)
        except FormatError as err:
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
