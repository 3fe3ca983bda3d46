"""sweep.py --backend slurm on a real SLURM: the one-node cluster `.ci/slurm-start` starts
on this machine (.ci/run starts it and sets NNLAB_REQUIRE_SLURM=1). Without SLURM, or
without submitit, the cluster tests skip with one line, or fail where NNLAB_REQUIRE_SLURM
(NNLAB_REQUIRE_SUBMITIT) is set (tests/optional.py).

The sweeps are tiny (seq_train.py, one check, 4-6 seeds): the machine has 2 CPUs."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest
from conftest import assert_one_line_error, read_rows, run_script, start_script, wait_until
from optional import need_slurm_cluster, need_slurm_programs, need_submitit

SEQ = ['--', 'seq_train.py', '--lang', 'anb2n', '--epoch', '1']   # one check, ~1 s a run


def sweep(*args, **kwargs):
    return run_script('sweep.py', *args, timeout=240, **kwargs)


def table(folder):
    """The rows without what differs between backends and runs (timing, task folders)."""
    return [{k: v for k, v in row.items() if k not in ('seconds', 'task')}
            for row in read_rows(folder)]


def array_ids(folder):
    with open(folder / 'slurm' / 'jobs.json') as f:
        return [a['job_id'] for a in json.load(f)['arrays']]


def in_squeue(ids):
    """The sweep's elements squeue lists in its default view (pending, running, ending)."""
    out = subprocess.run(['squeue', '--noheader', '--array', '--format=%i', '--jobs',
                          ','.join(ids)], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.fixture(scope='module')
def slurm():
    """submitit and a SLURM whose node takes jobs, else a one-line skip (a failure in CI)."""
    need_slurm_cluster()


@pytest.fixture(scope='module')
def local_table(tmp_path_factory):
    folder = tmp_path_factory.mktemp('local') / 'sweep'
    done = sweep('--seeds', '0-5', '--jobs', '2', '--out', folder, *SEQ)
    assert done.returncode == 0, done.stderr
    return table(folder)


# ---- without a cluster ---------------------------------------------------------------------

def test_without_sbatch_on_the_path_one_line_says_so(tmp_path):
    done = sweep('--backend', 'slurm', '--out', tmp_path / 'out', *SEQ,
                 env={'PATH': str(tmp_path)})
    assert_one_line_error(done, 'sbatch', 'not on the PATH')
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('args,words,needs', [
    (['--partition', 'short'], ['--partition is for --backend slurm'], []),
    (['--backend', 'slurm', '--time', '1h'], ['--time', 'sbatch'], [need_slurm_programs]),
    (['--backend', 'slurm', '--slurm-arg', 'constraint'], ['--slurm-arg', 'KEY=VALUE'],
     [need_slurm_programs]),
    (['--backend', 'slurm', '--slurm-arg', 'array=0-3'], ['--slurm-arg array', 'itself'],
     [need_slurm_programs]),
    # the partition is looked up (sinfo) once the backend, with submitit, is set up
    (['--backend', 'slurm', '--partition', 'no-such-partition'], ['--partition', 'sinfo'],
     [need_submitit, need_slurm_programs]),
], ids=['partition-without-slurm', 'time', 'slurm-arg', 'slurm-arg-array', 'partition'])
def test_bad_slurm_flags_are_one_line(tmp_path, args, words, needs):
    for need in needs:
        need()
    done = sweep(*args, '--out', tmp_path / 'out', *SEQ)
    assert_one_line_error(done, *words)
    assert not (tmp_path / 'out').exists()


def test_slurm_blocks_keep_every_cpu_busy_with_long_elements():
    from nnlab.sweep import plan
    from nnlab.sweep.slurm_backend import SlurmBackend
    most = SlurmBackend.block_limit
    assert plan.auto_block(rows=256, workers=2, most=most) == 64     # 4 elements of minutes
    assert plan.auto_block(rows=1024, workers=64, most=most) == 16   # one per CPU
    assert plan.auto_block(rows=6, workers=2, most=most) == 3        # small: every CPU busy


# ---- on the cluster ------------------------------------------------------------------------

@pytest.mark.slow
def test_what_sbatch_refuses_is_one_line(slurm, tmp_path):
    done = sweep('--backend', 'slurm', '--slurm-arg', 'constraint=no-such-feature',
                 '--out', tmp_path / 'out', *SEQ)
    assert_one_line_error(done, 'sbatch refused the job array', 'feature')
    assert not any(name.endswith('.pkl') for name in os.listdir(tmp_path / 'out' / 'slurm'))


@pytest.mark.slow
def test_detached_sweep_resumed_gives_the_local_table(slurm, local_table, tmp_path):
    """--detach submits (ids saved) and returns at once; --resume waits for the elements,
    then a wider --resume submits only the new seeds; the table equals the local one."""
    folder = tmp_path / 'slurm'
    started = time.monotonic()
    done = sweep('--backend', 'slurm', '--detach', '--seeds', '0-3', '--block', '2',
                 '--out', folder, *SEQ)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 20 and 'detached' in done.stdout
    assert read_rows(folder) == [] and len(array_ids(folder)) == 1
    local = sweep('--resume', '--out', folder)      # the jobs may still run those seeds
    assert_one_line_error(local, 'not collected', '--backend slurm --resume')

    done = sweep('--backend', 'slurm', '--resume', '--out', folder)
    assert done.returncode == 0, done.stderr
    assert table(folder) == local_table[:4]
    assert {r['task'] for r in read_rows(folder)} == {'runs/default/seeds-0-1',
                                                      'runs/default/seeds-2-3'}

    done = sweep('--backend', 'slurm', '--resume', '--seeds', '0-5', '--block', '2',
                 '--out', folder)
    assert done.returncode == 0, done.stderr
    assert '4 already done; 1 task(s)' in done.stdout
    with open(folder / 'slurm' / 'jobs.json') as f:
        arrays = json.load(f)['arrays']
    assert [[e['seeds'] for e in a['elements']] for a in arrays] == [[[0, 1], [2, 3]],
                                                                    [[4, 5]]]
    assert table(folder) == local_table
    assert arrays[1]['single'] and (folder / 'slurm' / f"{arrays[1]['job_id']}_0_log.out").exists()
    assert in_squeue(array_ids(folder)) == []


@pytest.mark.slow
@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_cancels_the_jobs_and_keeps_finished_rows(slurm, local_table, tmp_path, signum):
    """Ctrl-C or SIGTERM mid-sweep: no element left in squeue, every finished row kept;
    --resume finishes the sweep."""
    folder = tmp_path / 'slurm'
    proc = start_script('sweep.py', '--backend', 'slurm', '--seeds', '0-3', '--block', '1',
                        '--out', folder, *SEQ)
    wait_until(lambda: read_rows(folder), 120)          # the first finished row
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 128 + signum, err
    assert 'Traceback' not in err and 'cancelled job' in out and '--resume' in out
    assert in_squeue(array_ids(folder)) == []             # nothing left queued or running
    finished = read_rows(folder)
    assert 1 <= len(finished) < 4 and all(r['status'] == 'ok' for r in finished)

    done = sweep('--backend', 'slurm', '--resume', '--out', folder)
    assert done.returncode == 0, done.stderr
    rows = read_rows(folder)
    assert [r for r in rows if r['seed'] in {f['seed'] for f in finished}] == finished
    assert table(folder) == local_table[:4]


@pytest.mark.slow
def test_a_job_slurm_ends_is_a_failed_row_with_its_state(slurm, tmp_path):
    """An element SLURM ends before it can write its result (here killed through scancel,
    as a node failure or pre-emption would end it) is a failed row naming SLURM's state;
    --resume runs it again."""
    folder = tmp_path / 'slurm'
    proc = start_script('sweep.py', '--backend', 'slurm', '--seeds', '0-1', '--block', '1',
                        '--out', folder, *SEQ)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (folder / 'slurm' / 'jobs.json').exists():
        time.sleep(0.1)
    (job,) = array_ids(folder)
    while time.monotonic() < deadline and subprocess.run(
            ['squeue', '--noheader', '--array', '--jobs', f'{job}_1', '--format=%T'],
            capture_output=True, text=True).stdout.strip() != 'RUNNING':
        time.sleep(0.1)
    subprocess.run(['scancel', '--full', '--signal=KILL', f'{job}_1'], check=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    rows = read_rows(folder)
    assert [r['status'] for r in rows] == ['ok', 'failed']
    assert rows[1]['error'].startswith(f'slurm: job {job}_1 ended ')
    assert 'without a result' in rows[1]['error'] and 'squeue no longer' not in rows[1]['error']
    assert f'FAILED: slurm: job {job}_1 ended' in out
    done = sweep('--backend', 'slurm', '--resume', '--out', folder)
    assert done.returncode == 0, done.stderr
    assert [r['status'] for r in read_rows(folder)] == ['ok', 'ok']


@pytest.mark.slow
def test_an_element_at_its_time_limit_saves_and_is_a_failed_row(slurm, tmp_path):
    """SLURM signals the element a minute before --time ends (with --time 1: soon after it
    starts): the task saves what it has and stops; the row says `time limit`."""
    folder = tmp_path / 'slurm'
    done = sweep('--backend', 'slurm', '--time', '1', '--seeds', '0', '--out', folder,
                 '--', 'seq_train.py', '--lang', 'anb2n', '--epoch', '100000')
    assert done.returncode == 1, done.stderr
    (row,) = read_rows(folder)
    assert (row['status'], row['error']) == ('failed', 'time limit')
    task = folder / row['task']
    assert '"status": "interrupted"' in (task / 'run.json').read_text()   # the work is kept
    assert list(task.glob('*.pth'))


@pytest.mark.slow
def test_a_controller_that_does_not_answer_for_a_while_loses_nothing(slurm, tmp_path):
    """squeue failing (a busy slurmctld times out) is one warning; the sweep goes on."""
    fake = tmp_path / 'bin'
    fake.mkdir()
    squeue = shutil.which('squeue')
    (fake / 'squeue').write_text(
        '#!/bin/sh\n'
        f'n=$(cat "{tmp_path}/count" 2>/dev/null || echo 0); echo $((n + 1)) > "{tmp_path}/count"\n'
        'if [ "$n" -lt 4 ]; then\n'
        '    echo "squeue: error: Socket timed out on send/recv operation" >&2; exit 1\n'
        'fi\n'
        f'exec {squeue} "$@"\n')
    (fake / 'squeue').chmod(0o755)
    folder = tmp_path / 'slurm'
    done = sweep('--backend', 'slurm', '--seeds', '0-1', '--block', '1', '--out', folder, *SEQ,
                 env={'PATH': f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    assert [r['status'] for r in read_rows(folder)] == ['ok', 'ok']
    warnings = [line for line in done.stderr.splitlines() if line.startswith('warning:')]
    assert len(warnings) == 1 and 'Socket timed out' in warnings[0], done.stderr


@pytest.mark.slow
def test_more_elements_than_max_array_size_go_in_several_arrays(slurm, tmp_path, monkeypatch,
                                                                capsys):
    """Where the cluster's MaxArraySize is smaller than the sweep, several arrays (here a
    limit of 2 for 3 elements: an array of 2 and a job of 1), all saved before they run."""
    import sweep as sweep_script
    from nnlab.sweep import plan, runner, slurm_backend
    monkeypatch.setattr(slurm_backend, 'max_array_size', lambda: 2)
    args = sweep_script.parse_args(['--backend', 'slurm', '--detach', '--seeds', '0-2',
                                    '--block', '1', '--out', str(tmp_path / 'slurm'), *SEQ])
    definition = plan.Sweep('seq_train.py', args.script_args, [], [0, 1, 2])
    try:
        code = runner.run_sweep(definition, str(tmp_path / 'slurm'),
                                slurm_backend.options_from(args), block=1)
        assert code == 0
        with open(tmp_path / 'slurm' / 'slurm' / 'jobs.json') as f:
            arrays = json.load(f)['arrays']
        assert [[e['seeds'] for e in a['elements']] for a in arrays] == [[[0], [1]], [[2]]]
        assert [a['single'] for a in arrays] == [False, True]
        assert 'submitted 3 element(s)' in capsys.readouterr().out
    finally:
        ids = array_ids(tmp_path / 'slurm')
        subprocess.run(['scancel', *ids], check=False)     # the test only needs them saved
