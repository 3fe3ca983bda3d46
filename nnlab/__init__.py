"""The machinery behind the course's scripts: one subpackage per part of the assignment
(kmnist, perceptron, recurrent) and the modules they share (command line, argument types,
files, run records, plots).

The course's own files stay at the top of the repository (kuzu.py, check.py,
seq_models.py, anb2n.py, reber.py: the networks, the hand-designed weights and the
languages) and are imported from there, so `python3 kuzu_main.py` works in a fresh clone
with no install step.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent     # the repository's top folder
