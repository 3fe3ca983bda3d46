"""sweep.py: rows equal single runs, results survive Ctrl-C and resume, bad input is one
line, the summary counts right, and the Ray backend gives the local backend's table."""
import os
import signal

import pytest
from conftest import ROOT, assert_one_line_error, read_rows, run_script, start_script, wait_until
from optional import need_ray

from nnlab.cli import UserError
from nnlab.formats import schema, sweep_results
from nnlab.formats.kuzu_run import KuzuRun
from nnlab.formats.seq_run import SeqRun
from nnlab.sweep import plan
from nnlab.sweep.plan import Setting
from nnlab.sweep.stats import summarise, wilson_interval
from nnlab.sweep.summary import table

SEQ = ['--', 'seq_train.py', '--lang', 'anb2n', '--epoch', '1']   # one check, ~1 s a run


def sweep(*args, **kwargs):
    return run_script('sweep.py', *args, timeout=300, **kwargs)


def without(rows, *columns):
    return [{k: v for k, v in row.items() if k not in columns} for row in rows]


# ---- pure parts ----------------------------------------------------------------------------

def test_wilson_interval_matches_published_values():
    # Newcombe (1998), Table I, z = 1.96: 81/263 -> 0.2553-0.3662, 15/148 -> 0.0624-0.1605,
    # 0/20 -> 0-0.1611, 1/29 -> 0.0061-0.1718 (printed to 4 decimals)
    for (k, n), published in {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605),
                              (0, 20): (0.0, 0.1611), (1, 29): (0.0061, 0.1718)}.items():
        assert wilson_interval(k, n) == pytest.approx(published, abs=5e-5)
    # the closed form at the edges, to 1e-6 (z = 1.959964, scipy's exact quantile)
    z2 = 1.959963984540054 ** 2
    assert wilson_interval(0, 10) == pytest.approx((0.0, z2 / (10 + z2)), abs=1e-6)
    assert wilson_interval(8, 8) == pytest.approx((8 / (8 + z2), 1.0), abs=1e-6)
    assert wilson_interval(0, 0) is None          # no finished run: no interval


def test_seed_syntax_ranges_lists_and_mistakes():
    assert plan.parse_seeds('0-3,7,5-6') == [0, 1, 2, 3, 5, 6, 7]
    assert plan.format_seeds([0, 1, 2, 3, 5, 6, 7, 9]) == '0-3,5-7,9'
    for bad in ('5-1', 'a-b', '', '1,,2', '-3', f'0-{2**32}'):
        with pytest.raises(UserError, match='--seeds'):
            plan.parse_seeds(bad)


def test_blocks_are_consecutive_seeds_for_one_restarts_process():
    assert plan.blocks([0, 1, 2, 3, 4, 10, 11], 3) == [(0, 1, 2), (3, 4), (10, 11)]
    assert plan.auto_block(rows=256, workers=2) == 8      # at most 8
    assert plan.auto_block(rows=4, workers=2) == 2        # every worker gets a task


def test_grid_is_the_cross_product_in_the_order_given():
    grid = plan.parse_grid(['hid=2,3', 'lr=0.1,0.01'])
    assert [s.label for s in plan.settings_of(grid)] == [
        'hid=2 lr=0.1', 'hid=2 lr=0.01', 'hid=3 lr=0.1', 'hid=3 lr=0.01']
    for bad in (['hid'], ['hid=2,,3'], ['hid=2,2'], ['hid=2', 'hid=3']):
        with pytest.raises(UserError, match='--grid'):
            plan.parse_grid(bad)


def read_row(kind, **cells):
    """A ResultRow as results.csv's reader makes it from these cells (others empty)."""
    empty = dict.fromkeys(sweep_results.columns(kind.columns, []), '') | {'seed': '0'}
    return sweep_results.parse(empty | cells, kind.columns, [])


def test_table_counts_successes_and_kuzu_accuracy_from_rows():
    seq = plan.find_kind('seq_train.py')
    rows = [read_row(seq, status='ok', success=str(i < 3), mean_last_checks='0.1',
                     seconds='2') for i in range(8)] + \
        [read_row(seq, status='failed', success='', seconds='1')]
    assert rows[0].success is True and rows[5].success is False
    s = summarise(rows, seq)
    assert (s['runs'], s['successes'], s['failed']) == (8, 3, 1)
    assert s['interval'] == wilson_interval(3, 8)
    sweep_def = plan.Sweep('seq_train.py', [], [('hid', ('2',))], [0])
    line = table(sweep_def, [(Setting((('hid', '2'),)), rows)]).splitlines()[-1]
    assert line.startswith('| hid=2 | 8 | 3 | 38% | 14%-69% |'), line
    kuzu = plan.find_kind('kuzu_main.py')
    s = summarise([read_row(kuzu, status='ok', accuracy=a, seconds='1')
                   for a in ('70', '72', '74')], kuzu)
    assert (s['mean'], s['sd']) == (72.0, 2.0)


def test_a_row_read_back_from_results_csv_is_the_row_the_sweep_made(tmp_path):
    from nnlab.sweep.results import Results
    seq = plan.find_kind('seq_train.py')
    made = Results(str(tmp_path), seq, ['hid'])
    values = dict(status='ok', exit_code=0, seconds=1.25, task='runs/hid-2/seed-0',
                  success=False, mean_last_checks=0.1, last_check=0.3, threshold=0.05,
                  largest_n_right=7, trained_n=10)
    fresh = made.add(('2',), 0, values)
    made.add(('2',), 1, dict(status='failed', exit_code=2, seconds=0.5, error='error: x'))
    made.write()
    lines = (tmp_path / 'results.csv').read_text().splitlines()
    assert lines[1] == '2,0' + \
        ',ok,0,False,0.1,0.3,0.05,7,10,1.25,runs/hid-2/seed-0,'     # the cells as before
    read = Results(str(tmp_path), seq, ['hid']).load()
    assert read.rows[(('2',), 0)] == fresh and fresh.success is False
    assert read.rows[(('2',), 1)].error == 'error: x' and not read.done(('2',), 1)


# ---- bad input: one line, nothing run ------------------------------------------------------

@pytest.mark.parametrize('args,words', [
    (['--', 'train.py'], ['sweep.py runs', 'not']),
    (['--seeds', '9-1', *SEQ], ['--seeds', 'backwards']),
    (['--grid', 'hidd=2,3', *SEQ], ['--grid hidd', 'did you mean --grid hid']),
    (['--grid', 'hid=2,0', *SEQ], ['setting hid=0', '--hid']),
    (['--grid', 'seed=1,2', *SEQ], ['--grid seed', '--seeds']),
    ([*SEQ, '--seed', '3'], ['--seed', '--seeds']),
    ([*SEQ, '--out_path', 'net'], ['--out_path', 'own folder']),
    (['--', 'check_main.py', '--first'], ['--first', 'block']),
    (['--grid', 'hid=2', *SEQ, '--hid', '3'], ['--hid', 'both']),
    (['--seeds', '0-3'], ['name the script']),
])
def test_bad_sweep_input_is_one_line(tmp_path, args, words):
    done = sweep('--out', tmp_path / 'out', *args)
    assert_one_line_error(done, *words)
    assert not (tmp_path / 'out').exists()


def test_ray_backend_without_ray_says_how_to_install_it(tmp_path):
    fake = tmp_path / 'fake' / 'ray'
    fake.mkdir(parents=True)
    (fake / '__init__.py').write_text("raise ImportError('No module named ray')\n")
    done = sweep('--backend', 'ray', '--out', tmp_path / 'out', *SEQ,
                 env={'PYTHONPATH': f"{fake.parent}{os.pathsep}{ROOT}"})
    assert_one_line_error(done, 'pip install -r requirements-ray.txt')
    assert not (tmp_path / 'out').exists()


def test_a_ray_address_where_nothing_answers_is_one_line_not_a_hang():
    import socket

    from nnlab.sweep.ray_backend import check_reachable
    with socket.socket() as probe:          # a loopback port that is free, so refused
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    with pytest.raises(UserError, match='nothing answers at Ray address'):
        check_reachable(f'127.0.0.1:{port}', seconds=2)
    with pytest.raises(UserError, match='HOST:PORT'):
        check_reachable('cluster-without-port')
    check_reachable('auto')                 # Ray's own to resolve


# ---- a real sweep (shared by several tests) ------------------------------------------------

@pytest.fixture(scope='module')
def seq_sweep(tmp_path_factory):
    """seq_train.py over seeds 0-3 and --hid 2,3: two blocks of 4 seeds, one per core."""
    folder = tmp_path_factory.mktemp('seq') / 'sweep'
    done = sweep('--seeds', '0-3', '--grid', 'hid=2,3', '--jobs', '2', '--out', folder, *SEQ)
    assert done.returncode == 0, done.stderr
    return folder, done


@pytest.mark.slow
def test_rows_are_one_per_setting_and_seed_and_equal_single_runs(seq_sweep, tmp_path):
    folder, _ = seq_sweep
    rows = read_rows(folder)
    assert [(r['hid'], r['seed']) for r in rows] == [(h, s) for h in '23' for s in '0123']
    assert all(r['status'] == 'ok' and r['exit_code'] == '0' and r['error'] == '' for r in rows)
    assert rows[6]['task'] == 'runs/hid-3/seeds-0-3'         # trained as one block of 4
    # seed 2 of the hid=3 block is exactly the single run --seed 2 --hid 3
    done = run_script('seq_train.py', '--lang', 'anb2n', '--epoch', '1', '--hid', '3',
                      '--seed', '2', '--out_path', tmp_path, '--summary', tmp_path / 'r.json')
    assert done.returncode == 0, done.stderr
    single = schema.load(tmp_path / 'r.json', SeqRun).results.runs[0]
    assert float(rows[6]['mean_last_checks']) == single.mean_last_checks
    assert rows[6]['success'] == str(single.success)
    assert rows[6]['largest_n_right'] == str(single.largest_n_right)


@pytest.mark.slow
def test_summary_files_and_report_again(seq_sweep):
    folder, done = seq_sweep
    assert '[8/8]' in done.stdout and 'so far' in done.stdout and 'left' in done.stdout
    for name in ('sweep.json', 'summary.md', 'success.png', 'metric.png', 'generalise.png'):
        assert (folder / name).stat().st_size > 0, name
    summary = (folder / 'summary.md').read_text()
    successes = {h: sum(r['success'] == 'True' for r in read_rows(folder) if r['hid'] == h)
                 for h in '23'}
    for h in '23':
        assert f"| hid={h} | 4 | {successes[h]} |" in summary
    (folder / 'summary.md').unlink()
    again = sweep('--report', '--out', folder)
    assert again.returncode == 0, again.stderr
    assert (folder / 'summary.md').exists()
    assert '| hid=2 | 4 |' in again.stdout


@pytest.mark.slow
def test_an_existing_sweep_folder_is_not_overwritten(seq_sweep):
    folder, _ = seq_sweep
    before = (folder / 'results.csv').read_text()
    same = sweep('--seeds', '0-3', '--grid', 'hid=2,3', '--out', folder, *SEQ)
    assert_one_line_error(same, 'already holds this sweep', '--resume')
    other = sweep('--out', folder, '--', 'check_main.py', '--act', 'sig')
    assert_one_line_error(other, 'holds another sweep', 'another --out')
    assert (folder / 'results.csv').read_text() == before


@pytest.mark.slow
def test_ray_backend_gives_the_local_table(seq_sweep, tmp_path):
    need_ray()
    folder, _ = seq_sweep
    done = sweep('--seeds', '0-3', '--grid', 'hid=2,3', '--jobs', '2', '--out', tmp_path / 'ray',
                 '--backend', 'ray', '--address', 'local', *SEQ)
    assert done.returncode == 0, done.stderr
    assert without(read_rows(tmp_path / 'ray'), 'seconds') == \
        without(read_rows(folder), 'seconds')
    assert (tmp_path / 'ray' / 'runs' / 'hid-2' / 'seeds-0-3' / 'run.json').exists()


def test_files_shipped_back_from_another_node_land_as_they_were(tmp_path):
    """What a Ray task on another node returns is written under DIR unchanged."""
    from nnlab.sweep.ray_backend import _folder_files, _write_files
    worker = tmp_path / 'worker'
    (worker / 'sub').mkdir(parents=True)
    (worker / 'run.json').write_text('{"format": "nnlab-run-1"}')
    (worker / 'sub' / 'picture.png').write_bytes(bytes(range(256)))
    _write_files(tmp_path / 'driver', _folder_files(worker))
    assert (tmp_path / 'driver' / 'run.json').read_text() == '{"format": "nnlab-run-1"}'
    assert (tmp_path / 'driver' / 'sub' / 'picture.png').read_bytes() == bytes(range(256))


# ---- failures, Ctrl-C, resume --------------------------------------------------------------

@pytest.mark.slow
def test_a_failing_task_is_a_row_and_the_sweep_goes_on(tmp_path):
    folder = tmp_path / 'check'
    done = sweep('--seeds', '0-3', '--grid', 'csv=check.csv,missing.csv', '--out', folder,
                 '--', 'check_main.py', '--act', 'sig', '--hid', '6', '--lr', '0.01',
                 '--epoch', '3000')
    assert done.returncode == 1, done.stderr
    rows = read_rows(folder)
    good = [r for r in rows if r['csv'] == 'check.csv']
    bad = [r for r in rows if r['csv'] == 'missing.csv']
    assert len(good) == len(bad) == 4
    assert all(r['status'] == 'ok' and r['success'] == 'True' for r in good)   # 100% reached
    assert all(int(r['reached_at']) <= int(r['stopped']) <= 3000 for r in good)
    assert all(r['status'] == 'failed' and r['exit_code'] == '2' for r in bad)
    assert all(r['error'].startswith('error: ') and 'missing.csv' in r['error'] for r in bad)
    assert '| csv=check.csv | 4 | 4 | 100% | 51%-100% |' in (folder / 'summary.md').read_text()
    assert '4 of 8 rows failed' in done.stdout


def _processes_mentioning(text):
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.mark.slow
def test_ctrl_c_keeps_finished_rows_and_resume_runs_only_the_rest(tmp_path):
    """Ctrl-C mid-sweep, then --resume with one more seed: finished rows are kept as they
    were, the stopped task's seeds and the new seed run."""
    folder = tmp_path / 'seq'
    proc = start_script('sweep.py', '--seeds', '0-3', '--block', '1', '--jobs', '1', '--out',
                        folder, *SEQ)
    wait_until(lambda: read_rows(folder), 120)          # the first finished row
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert 'Traceback' not in err and '--resume' in out
    finished = read_rows(folder)
    assert 1 <= len(finished) < 4 and all(r['status'] == 'ok' for r in finished)
    assert _processes_mentioning(str(folder)) == []      # no task left running

    done = sweep('--resume', '--out', folder, '--seeds', '0-4')     # and one seed more
    assert done.returncode == 0, done.stderr
    rows = read_rows(folder)
    assert [r['seed'] for r in rows] == ['0', '1', '2', '3', '4']
    assert rows[:len(finished)] == finished            # kept as they were, not run again
    assert f'{len(finished)} already done' in done.stdout
    tasks = {r['task'] for r in rows}
    assert sorted(os.listdir(folder / 'runs' / 'default')) == sorted(
        t.split('/')[-1] for t in tasks)                # no folder of the stopped task


@pytest.mark.slow
def test_kuzu_sweep_reads_the_accuracy_of_each_run(tmp_path, data_dir):
    folder = tmp_path / 'kuzu'
    done = sweep('--seeds', '1', '--out', folder, '--', 'kuzu_main.py', '--net', 'lin',
                 '--epochs', '1', '--train_count', '500', env={'KUZU_DATA': str(data_dir)})
    assert done.returncode == 0, done.stderr
    [row] = read_rows(folder)
    record = schema.load(folder / row['task'] / 'run.json', KuzuRun)
    assert float(row['accuracy']) == record.results.accuracy
    assert int(row['correct']) == record.results.correct
    assert (folder / 'runs' / 'default' / 'seed-1' / 'kuzu_lin_confusion.csv').exists()
    assert not (folder / 'success.png').exists()          # no success criterion for kuzu
    summary = (folder / 'summary.md').read_text()
    assert f"| (no grid) | 1 | {float(row['accuracy']):.4g} |" in summary
