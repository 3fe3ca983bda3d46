"""The one rule for the optional parts some tests need.

Each part has one check here (the KMNIST files are checked in conftest.kmnist_root, the
browser in browser.py), and when it is missing the test is skipped with one line saying
what is missing and how to get it. Each part has a switch that turns that skip into a
failure:

    NNLAB_REQUIRE_DATA      the KMNIST files ($KUZU_DATA, ../shared/data, ./data)
    NNLAB_REQUIRE_BROWSER   a Chromium Playwright can start
    NNLAB_REQUIRE_RAY       Ray (requirements-ray.txt), for sweep.py --backend ray
    NNLAB_REQUIRE_SUBMITIT  submitit (requirements-slurm.txt), for --backend slurm
    NNLAB_REQUIRE_SLURM     SLURM's programs and a node taking jobs (.ci/slurm-start)

.ci/run sets them all, and NNLAB_NO_SKIPS=1, with which the run fails if any test was
skipped at all (conftest.pytest_sessionfinish): "nothing skips in CI" is checked.
"""
import os
import shutil
import subprocess

import pytest

SLURM_HOW = ("no SLURM here (sbatch or sinfo not on the PATH, or sinfo shows no idle node): "
             "start the one-node test cluster with `sudo .ci/slurm-start` (Debian/Ubuntu, "
             "root), see docs/sweeps.md")


def unavailable(part, reason):
    """Skip the test for a missing optional part, or fail it where NNLAB_REQUIRE_<PART> is
    set."""
    switch = f'NNLAB_REQUIRE_{part}'
    if os.environ.get(switch):
        pytest.fail(f'{reason} (and {switch} is set, so this is a failure)', pytrace=False)
    pytest.skip(reason)


def need_ray():
    """Ray importable, else skipped with sweep.py's own line for --backend ray."""
    from nnlab.cli import UserError
    from nnlab.sweep.ray_backend import import_ray
    try:
        import_ray()
    except UserError as err:
        unavailable('RAY', str(err))


def need_submitit():
    """submitit importable, else skipped with sweep.py's own line for --backend slurm."""
    from nnlab.cli import UserError
    from nnlab.sweep.slurm_backend import import_submitit
    try:
        import_submitit()
    except UserError as err:
        unavailable('SUBMITIT', str(err))


def need_slurm_programs():
    """sbatch and sinfo on the PATH (a login node, or a machine with SLURM installed)."""
    if not (shutil.which('sbatch') and shutil.which('sinfo')):
        unavailable('SLURM', SLURM_HOW)


def need_slurm_cluster():
    """submitit, SLURM's programs and a node that takes jobs."""
    need_submitit()
    need_slurm_programs()
    try:
        states = subprocess.run(['sinfo', '--noheader', '--format=%T'], capture_output=True,
                                text=True, timeout=30).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        states = []
    if not any(s.rstrip('*~#') in ('idle', 'mixed', 'allocated') for s in states):
        unavailable('SLURM', SLURM_HOW)
