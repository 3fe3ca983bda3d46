"""The data of Part 2: 2-D points with 0/1 targets, read from a small CSV file.

The file has three columns, x, y and target, one point a row; a first row with no number
in it (e.g. `x,y,target`) is a header and skipped; a first row with some numbers is data
and must be all numbers (`0,0,O` with a letter O is an error, not a header). A UTF-8
byte-order mark (as some spreadsheet programs write) is ignored. Coordinates must lie
within +-MAX_COORDINATE, so the network's arithmetic stays finite. The whole set is one
batch, so it is loaded into two tensors once.
"""
import csv
import math
import os

import torch

from nnlab import ROOT
from nnlab.cli import UserError

DEFAULT_CSV = os.fspath(ROOT / 'check.csv')
MAX_COORDINATE = 1e6
MAX_POINTS = 10_000        # the report prints a row per point, the pictures draw each


def _number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def load_points(path=DEFAULT_CSV):
    """Return (inputs [N, 2], targets [N, 1]) as float32 tensors."""
    fix = f"; fix {path}: each row must be x,y,target with numbers and a 0/1 target"
    try:
        with open(path, newline='', encoding='utf-8-sig') as f:
            rows = [(n, row) for n, row in enumerate(csv.reader(f), 1)
                    if any(cell.strip() for cell in row)]
    except FileNotFoundError:
        raise UserError(f"data file {path!r} not found; pass --csv FILE")
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise UserError(f"cannot read data file {path!r} ({err}); pass a readable CSV")
    if rows and all(_number(cell) is None for cell in rows[0][1]):
        header_line, header = rows.pop(0)
        if len(header) != 3:
            raise UserError(f"{path} line {header_line}: the header has {len(header)} "
                            f"columns, expected 3 (x, y, target)" + fix)
    if not rows:
        raise UserError(f"data file {path!r} holds no points" + fix)
    if len(rows) > MAX_POINTS:
        raise UserError(f"data file {path!r} holds {len(rows):,} points, more than "
                        f"{MAX_POINTS:,} (a table row and a dot each); use fewer")
    points = []
    for line, row in rows:
        if len(row) != 3:
            raise UserError(f"{path} line {line}: {len(row)} values, expected 3 "
                            f"(x, y, target)" + fix)
        values = [_number(cell) for cell in row]
        for cell, value in zip(row, values):
            if value is None:
                raise UserError(f"{path} line {line}: {cell.strip()!r} is not a finite "
                                f"number" + fix)
        for cell, value in zip(row[:2], values[:2]):
            if abs(value) > MAX_COORDINATE:
                raise UserError(f"{path} line {line}: coordinate {cell.strip()} is outside "
                                f"+-{MAX_COORDINATE:g}" + fix)
        if values[2] not in (0.0, 1.0):
            raise UserError(f"{path} line {line}: target {row[2].strip()!r} is not 0 or 1"
                            + fix)
        points.append(values)
    data = torch.tensor(points, dtype=torch.float32)
    return data[:, :2].contiguous(), data[:, 2:].contiguous()
