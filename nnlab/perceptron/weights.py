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
        weights = CheckWeights.read(path, _weight_shapes())
    except FormatError as err:
        fix = '' if str(err).endswith(HINT) else '; check the path'
        raise UserError(f"weights file {path!r}: {err}{fix}") from None
    return {name: torch.tensor(value, dtype=torch.float32)
            for name, value in weights.arrays().items()}


def _weight_shapes():
    """check.py's weight_shapes (and its WEIGHT_NAMES, the names the weights travel by)."""
    return student.load('check', need=('WEIGHT_NAMES', 'weight_shapes')).weight_shapes


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

    def mistake(constant, problem):
        """The StudentError at the line of check.py that assigns `constant`."""
        line = lines.get(constant)
        where = f"in {shown}, line {line}" if line else f"in {shown}"
        return student.StudentError(f"{where}: {problem}", shown, line)

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
            raise mistake(constant, f"{constant} is a {type(value).__name__}, not a list of "
                                    f"numbers; the weights section is the four lists {names}")
        try:
            shapes[name] = shape_of(value, constant)
        except FormatError as err:
            raise mistake(constant, str(err)) from None
        values[name] = value
    rows = shapes['in_hid_weight']
    section_hid = rows[0] if rows else 0
    expected = _weight_shapes()(section_hid)
    for name, constant in SECTION.items():
        if shapes[name] != expected[name]:
            because = (f"IN_HID_WEIGHT has {section_hid} rows, so it must be "
                       if name != 'in_hid_weight' else "it must be ")
            raise mistake(constant, f"{constant} has shape {list(shapes[name])} but "
                                    f"{because}{list(expected[name])}")
    if hid is not None and hid != section_hid:
        raise mistake('IN_HID_WEIGHT', f"the weights section has {section_hid} hidden units "
                                       f"(the rows of IN_HID_WEIGHT), not --hid {hid}; use "
                                       f"--hid {section_hid} (or none) or change the section")
    return {name: torch.tensor(values[name], dtype=torch.float32) for name in SECTION}, \
        section_hid
