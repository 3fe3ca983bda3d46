"""Seeds: reproducible runs with `--seed N`, a fresh seed for "run it again".

Where the course says training sometimes sticks and to run it again (Parts 2 and 3), a run
without `--seed` draws a fresh seed and prints it with the command that repeats the run;
`--seed N` gives the same printed numbers every time.
"""
import random
import secrets
import shlex

from nnlab.cli import Invocation

MAX_SEED = 2**32 - 1        # numpy's seeds are 32-bit


def draw_seed(count=1):
    """A fresh seed such that seed..seed+count-1 are all valid seeds."""
    return secrets.randbelow(MAX_SEED - count + 2)


def resolve_seed(seed, count=1):
    """(seed, drawn): the given seed, or a fresh one when it is None."""
    return (draw_seed(count), True) if seed is None else (seed, False)


def repeat_command(seed):
    """The command line that repeats this run: the same flags with --seed fixed."""
    script, argv = Invocation.current()
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == '--seed':
            skip = True
            continue
        if arg.startswith('--seed='):
            continue
        kept.append(arg)
    return shlex.join(['python3', script, *kept, '--seed', str(seed)])


def set_seed(seed):
    """Seed every generator we use, so a seed gives the same printed numbers."""
    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
