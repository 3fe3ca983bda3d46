"""The README's test command on machines that lack an optional part (tests/optional.py):
a nested pytest over the affected tests, as on a cluster login node (SLURM's programs on
the PATH, submitit not installed) and as on a machine without a browser. The tests that
need the missing part skip with their one line; nothing fails. And with NNLAB_NO_SKIPS
set (as .ci/run sets it) a skip fails the run."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from nnlab import ROOT
from nnlab.sweep.slurm_backend import INSTALL

# Makes `import submitit` fail in every process started with it on PYTHONPATH (the nested
# pytest and the sweeps it runs), as where it is not installed.
HIDE_SUBMITIT = textwrap.dedent('''
    import sys

    class HideSubmitit:
        def find_spec(self, name, path=None, target=None):
            if name == 'submitit' or name.startswith('submitit.'):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, HideSubmitit())
''')


def nested_pytest(*args, env):
    """pytest over `args` in a child, with none of CI's switches unless `env` sets them:
    (exit code, output, {outcome: count})."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith('NNLAB_REQUIRE_') and k != 'NNLAB_NO_SKIPS'}
    done = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-rs', '-n', '0',
                           '-p', 'no:randomly', *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=280)
    counts = {word: int(n) for n, word in re.findall(r'(\d+) (passed|failed|skipped|error)',
                                                      done.stdout.splitlines()[-1])}
    return done.returncode, done.stdout, counts


def skip_reasons(output):
    return [line.split(': ', 1)[1] for line in output.splitlines()
            if line.startswith('SKIPPED [')]


@pytest.mark.slow
def test_on_a_login_node_without_submitit_the_cluster_tests_skip_with_the_sweeps_line(
        tmp_path):
    bin_folder, site = tmp_path / 'bin', tmp_path / 'site'
    bin_folder.mkdir()
    site.mkdir()
    (site / 'sitecustomize.py').write_text(HIDE_SUBMITIT)
    (bin_folder / 'sinfo').write_text('#!/bin/sh\necho idle\n')          # a node is up
    (bin_folder / 'sbatch').write_text('#!/bin/sh\necho "sbatch: error: not here" >&2\n'
                                       'exit 1\n')
    for program in ('sinfo', 'sbatch'):
        (bin_folder / program).chmod(0o755)
    code, out, counts = nested_pytest(
        'tests/test_sweep_slurm.py', '-k', 'bad_slurm_flags or detached or without_sbatch',
        env={'PATH': f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
             'PYTHONPATH': str(site)})
    assert code == 0, out
    # the bad flags refused before submitit is needed (4) and the test without sbatch pass;
    # the --partition check (it needs submitit) and the cluster test skip
    assert counts == {'passed': 5, 'skipped': 2}, out
    reasons = skip_reasons(out)
    assert len(reasons) == 2 and all(r.startswith('--backend slurm needs submitit, which cannot '
                                                  'be imported here') for r in reasons), out
    assert all(r.endswith(f'install it: {INSTALL}') for r in reasons), out


@pytest.mark.slow
def test_without_a_browser_the_browser_tests_skip_and_ci_would_fail():
    code, out, counts = nested_pytest('tests/test_report_browser.py',
                                      env={'NNLAB_NO_BROWSER': '1'})
    assert code == 0 and counts == {'skipped': 4}, out
    (reason,) = set(skip_reasons(out))
    assert 'no Chromium for the browser tests' in reason and 'playwright install' in reason

    code, out, counts = nested_pytest('tests/test_report_browser.py',
                                      env={'NNLAB_NO_BROWSER': '1', 'NNLAB_NO_SKIPS': '1'})
    assert code == 1 and counts == {'skipped': 4}, out
    assert 'error: 4 test(s) skipped and NNLAB_NO_SKIPS is set, so the run fails' in out
