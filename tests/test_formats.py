"""The files the toolkit writes, read back through their formats (nnlab/formats): what
a damaged, foreign, older or newer file does in each script that reads it."""
import json
import os

import pytest
import torch
from bad_weights import BAD_WEIGHTS, GOOD, weights_text
from conftest import assert_one_line_error, run_script

from nnlab.formats import schema
from nnlab.formats.check_run import CheckRun
from nnlab.formats.kuzu_run import EpochTest, KuzuConfig, KuzuResults, KuzuRun
from nnlab.formats.seq_checkpoint import CheckpointMeta
from nnlab.formats.seq_run import SeqRun
from nnlab.formats.sweep_definition import SweepDefinition
from nnlab.recurrent import checkpoint
from seq_models import make_model


def kuzu_record(**results):
    return KuzuRun(script='kuzu_main.py', command='python3 kuzu_main.py --net lin',
                   config=KuzuConfig(net='lin'), status='finished',
                   results=KuzuResults(**results))


# --- the schema, on its own ---------------------------------------------------------------

def test_a_record_round_trips_exactly(tmp_path):
    record = kuzu_record(accuracy=66.13, correct=6613, epochs=[EpochTest(1, 1.25, 6613, 66.13)],
                         confusion=[[i * 10 + j for j in range(10)] for i in range(10)])
    path = schema.save(tmp_path / 'r.json', record)
    assert schema.load(path, KuzuRun) == record


@pytest.mark.parametrize('change, reason', [
    (lambda d: d['results'].update(accuracy='high'), 'results.accuracy is "high", expected'),
    (lambda d: d['results'].update(epochs={'1': 2}), 'results.epochs is an object, expected'),
    (lambda d: d['results'].update(confusion=[[1, 2]]), 'not a 10x10 matrix'),
    (lambda d: d['results'].update(correct=True), 'results.correct is true, expected a whole'),
    (lambda d: d.update(command='\ud800'), 'command holds text that is not valid Unicode'),
    (lambda d: d.pop('config'), None),                   # a field with a default: fine
    (lambda d: d['config'].update(net='huge'), "net is 'huge'"),
    (lambda d: d.update(status='paused'), "status is 'paused'"),
    (lambda d: d.update(format='nnlab-kuzu-run-3'), 'newer version of the toolkit'),
    (lambda d: d.update(format='nnlab-run-1'), 'run kuzu_main.py again'),
    (lambda d: d.update(format='nnlab-check-run-2'), 'not a nnlab-kuzu-run file'),
    (lambda d: d.pop('format'), 'no format name'),
])
def test_every_kind_of_damage_is_a_reason_naming_the_key(tmp_path, change, reason):
    data = schema.to_dict(kuzu_record(accuracy=70.0))
    change(data)
    path = tmp_path / 'r.json'
    path.write_text(json.dumps(data))
    if reason is None:
        schema.load(path, KuzuRun)
        return
    with pytest.raises(schema.FormatError) as err:
        schema.load(path, KuzuRun)
    assert reason in str(err.value)


def test_files_that_are_not_json_files_are_refused_without_reading_them(tmp_path):
    for content, reason in ((b'{"format": ', 'not valid JSON'), (b'\xff\xfe', 'not UTF-8'),
                            (b'[' * 100000, 'nested too deeply'), (b'[1, 2]', 'not a JSON object')):
        (tmp_path / 'r.json').write_bytes(content)
        with pytest.raises(schema.FormatError, match=reason):
            schema.load(tmp_path / 'r.json', KuzuRun)
    (tmp_path / 'big.json').write_bytes(b' ' * 2000)
    with pytest.raises(schema.FormatError, match='larger than'):
        schema.load(tmp_path / 'big.json', KuzuRun, limit=1000)
    if hasattr(os, 'mkfifo'):
        os.mkfifo(tmp_path / 'fifo.json')     # opening it to read would wait for a writer
        with pytest.raises(schema.FormatError, match='not a regular file'):
            schema.load(tmp_path / 'fifo.json', KuzuRun)
    with pytest.raises(schema.FormatError, match='does not exist'):
        schema.load(tmp_path / 'none.json', KuzuRun)


def test_the_first_releases_sweep_definition_and_checkpoints_still_load(tmp_path):
    (tmp_path / 'sweep.json').write_text(json.dumps({
        'format': 'nnlab-sweep-1', 'script': 'seq_train.py', 'script_args': ['--lang', 'anb2n'],
        'grid': [['hid', ['2', '3']]], 'seeds': '0-7', 'command': 'python3 sweep.py ...'}))
    definition = schema.load(tmp_path / 'sweep.json', SweepDefinition)
    assert [(a.name, a.values) for a in definition.grid] == [('hid', ['2', '3'])]
    model = make_model('srn', 2, 2, 2)
    path = tmp_path / 'anb2n_srn2_1.pth'
    torch.save({'format': 'kuzu-seq-1', 'state_dict': model.state_dict(),
                'meta': dict(lang='anb2n', embed=False, length=4, model='srn', hid=2,
                             num_input=2, num_out=2, step=1000, seed=7)}, path)
    _, meta = checkpoint.load(path, lang='anb2n', model='srn', hid=2)
    assert (meta.network.length, meta.step, meta.seed) == (4, 1000, 7)


@pytest.mark.slow
def test_a_checkpoint_of_a_newer_toolkit_is_one_line(run, tmp_path):
    model = make_model('srn', 2, 2, 2)
    meta = schema.to_dict(CheckpointMeta(network=checkpoint_network(), num_input=2, num_out=2))
    meta.pop('format')
    os.makedirs(tmp_path / 'net')
    torch.save({'format': 'nnlab-checkpoint-9', 'state_dict': model.state_dict(), 'meta': meta},
               tmp_path / 'net' / 'anb2n_srn2_1.pth')
    done = run('seq_plot.py', '--epoch', '1', '--out_path', tmp_path / 'net', '--plot_dir',
               tmp_path / 'plot')
    assert_one_line_error(done, 'anb2n_srn2_1.pth: written by a newer version', 'update')


def checkpoint_network():
    from nnlab.recurrent.languages import Network
    return Network('anb2n', False, 4, 'srn', 2)


# --- each script that reads them ----------------------------------------------------------

def test_report_warns_about_each_damaged_file_and_still_writes_the_page(tmp_path):
    plot, net, out = tmp_path / 'plot', tmp_path / 'net', tmp_path / 'report'
    for folder in (plot, net, out):
        folder.mkdir()
    (plot / 'kuzu_lin_run.json').write_text('{"format": "nnlab-kuzu-run-2", "results": [')
    check = schema.to_dict(CheckRun(script='check_main.py', status='finished'))
    check['results']['points'] = 'nine'
    (plot / 'check_sig_hid5_run.json').write_text(json.dumps(check))
    seq = schema.to_dict(SeqRun(script='seq_train.py', status='finished'))
    seq['format'] = 'nnlab-seq-run-7'
    (net / 'anb2n_srn2_run.json').write_text(json.dumps(seq))
    (plot / 'anb2n_srn2_analysis.json').write_text(json.dumps({'format': 'something-else-1'}))
    (out / 'runs.json').write_text(json.dumps({'format': 'nnlab-report-runs-2', 'steps': [
        {'part': 1, 'command': 'python3 kuzu_main.py'}]}))          # a step without its key
    done = run_script('report.py', '--plot_dir', plot, '--net_dir', net, '--out', out,
                      '--sweeps', cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith('warning: ')]
    expected = {'kuzu_lin_run.json': 'not valid JSON',
                'check_sig_hid5_run.json': 'results.points is "nine", expected a list',
                'anb2n_srn2_run.json': 'newer version',
                'anb2n_srn2_analysis.json': "'something-else-1' file",
                'runs.json': 'steps[0].key is missing'}
    assert len(warnings) == len(expected), done.stderr
    for name, reason in expected.items():
        assert any(f'{name}: ' in w and reason in w for w in warnings), (name, warnings)
    page = (out / 'index.html').read_text()
    assert page.count('Cannot read') == len(expected)
    assert 'Traceback' not in done.stderr


def test_sweep_refuses_a_damaged_definition_in_one_line(tmp_path):
    folder = tmp_path / 'sweep'
    folder.mkdir()
    (folder / 'sweep.json').write_text(json.dumps({'format': 'nnlab-sweep-2',
                                                   'script': 'seq_train.py', 'grid': 7}))
    done = run_script('sweep.py', '--report', '--out', folder)
    assert_one_line_error(done, 'sweep.json: grid is 7, expected a list')
    (folder / 'sweep.json').write_text(json.dumps({'format': 'nnlab-sweep-2',
                                                   'script': 'seq_train.py', 'seeds': '9-1'}))
    done = run_script('sweep.py', '--resume', '--out', folder)
    assert_one_line_error(done, 'sweep.json: seeds or grid', 'backwards')


# --- the output lock (nnlab/locking.py OutputLock) --------------------------------------------

def test_an_output_lock_says_its_holder_in_its_format_and_an_older_lock_still_reads(tmp_path):
    from nnlab.formats.output_lock import LockHolder
    from nnlab.locking import OutputLock
    with OutputLock(tmp_path, 'run', 'the run') as lock:
        data = json.loads((tmp_path / '.run.lock').read_text())
        assert data['format'] == LockHolder.FORMAT and data['pid'] == os.getpid()
        assert lock.holder().pid == os.getpid()
    assert not (tmp_path / '.run.lock').exists()
    (tmp_path / '.old.lock').write_text(json.dumps({'host': 'node7', 'pid': 42,
                                                    'started': None, 'since': 1.5e9}))
    assert OutputLock(tmp_path, 'old', 'x').holder() == LockHolder(host='node7', pid=42,
                                                                  since=1.5e9)
    (tmp_path / '.old.lock').write_text('{"host": "node7", "pid": true}')
    assert OutputLock(tmp_path, 'old', 'x').holder() is None      # damaged: taken as unreadable


def test_a_damaged_step_of_the_page_manifest_is_dropped_with_its_reason(tmp_path):
    from nnlab.formats import page_runs
    good = {'key': 'kuzu_lin', 'part': 1, 'command': 'python3 kuzu_main.py --net lin'}
    path = tmp_path / 'runs.json'
    path.write_text(json.dumps({'format': 'nnlab-report-runs-1',
                                'steps': [good, dict(good, status='done'), 7]}))
    manifest, reasons = page_runs.load_lenient(path)
    assert [s.key for s in manifest.steps] == ['kuzu_lin']
    assert reasons == ["steps[1]: status is 'done'", 'steps[2] is 7, expected an object']
    path.write_text(json.dumps({'format': 'nnlab-kuzu-run-2', 'steps': []}))
    with pytest.raises(schema.FormatError, match='not a nnlab-page-runs file'):
        page_runs.load_lenient(path)


# --- check_main.py --weights FILE (nnlab/formats/check_weights.py) --------------------------

@pytest.mark.parametrize('text, words', BAD_WEIGHTS)
def test_a_bad_weights_file_is_one_reason_naming_the_array(tmp_path, text, words):
    from nnlab.formats.check_weights import HINT, CheckWeights
    path = tmp_path / 'w.json'
    path.write_text(text)
    with pytest.raises(schema.FormatError) as err:
        CheckWeights.read(path)
    assert words in str(err.value) and str(err.value).endswith(HINT)


def test_a_good_weights_file_reads_with_its_hidden_size(tmp_path):
    from nnlab.formats.check_weights import CheckWeights
    path = tmp_path / 'w.json'
    path.write_text(weights_text(in_hid_weight=[[1, 2], [3, 4]], hid_bias=[0, 1],
                                 hid_out_weight=[[1, -1]]))
    weights = CheckWeights.read(path)
    assert weights.hid == 2 and weights.out_bias == GOOD['out_bias']
    with pytest.raises(schema.FormatError, match='does not exist'):
        CheckWeights.read(tmp_path / 'none.json')


# --- kuzu_main.py --save: the record beside the state dict ---------------------------------

def test_a_saved_kmnist_net_says_its_hidden_size_and_an_older_file_is_guessed(tmp_path):
    from nnlab.explore.gather import saved_hid
    from nnlab.formats.kuzu_net import SavedNet, record_path
    from nnlab.page.sources import Sources
    net = tmp_path / 'net'
    net.mkdir()
    path = net / 'kuzu_full.pth'
    state = {'fc1.weight': torch.zeros(7, 784), 'fc2.weight': torch.zeros(10, 7)}
    sources = Sources(str(tmp_path), str(net), str(tmp_path / 'out'), say=lambda line: None)
    hid, note = saved_hid('full', str(path), state, sources)       # saved before the record
    assert hid == 7 and 'read from its weights' in note and 'kuzu_full_net.json' in note
    assert record_path(path) == str(net / 'kuzu_full_net.json')
    schema.save(record_path(path), SavedNet(net='full', net_class='NetFull', hid=130))
    assert saved_hid('full', str(path), state, sources) == (130, None)
    schema.save(record_path(path), SavedNet(net='conv'))
    assert 'says it is --net conv' in saved_hid('full', str(path), state, sources)[1]
