"""Edited copies of the student's files (kuzu.py, check.py) in a temporary folder that
imports find first, as a student's checkout would hold them."""
import sys

from nnlab import ROOT


def edited_copies(tmp_path, monkeypatch, module):
    """write(edits=(), text=None) puts `module`.py (the shipped one, or `text`, with each
    (old, new) of `edits` replaced) into tmp_path, which is the current folder and first on
    sys.path; returns the text written."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.chdir(tmp_path)
    original = (ROOT / f'{module}.py').read_text()

    def write(edits=(), text=None):
        text = original if text is None else text
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new)
        (tmp_path / f'{module}.py').write_text(text)
        sys.modules.pop(module, None)
        return text
    return write


def line_of(text, snippet):
    """The number of the first line of `text` holding `snippet`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if snippet in line)
