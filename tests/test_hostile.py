"""sweep.py and report.py under hostile input: nothing escapes into Markdown or HTML,
nothing outside the given folders is read or removed, a second writer changes nothing,
odd flags are refused at once, and damaged files (fuzzed) are warnings, never crashes."""
import csv
import io
import json
import os
import re
import time
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run_script
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from nnlab.formats import schema
from nnlab.formats.check_run import CheckConfig, CheckResults, CheckRun, DividingLine
from nnlab.formats.kuzu_run import EpochTest, KuzuConfig, KuzuResults, KuzuRun
from nnlab.formats.seq_run import SeqRun
from nnlab.formats.sweep_definition import SweepDefinition
from nnlab.locking import OutputLock
from nnlab.markup import markdown_code, markdown_text, one_line
from nnlab.page.build import build_page
from nnlab.sweep import plan
from nnlab.sweep.results import Results
from nnlab.sweep.scripts import find_kind
from nnlab.sweep.summary import write_summary

HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
           '`code` and ``more``', 'line\n\nbreak\r\nand\rmore', 'a | b || c', '# heading',
           '- item', '1. item', '[link](javascript:alert(1))', '&lt;b&gt; &amp;', '*em* _em_',
           '\\`not code`', '    indented', '![x](y)', '<!-- comment -->', '~~gone~~',
           '==\n===', 'x\u2028y']
RAW_TAG = re.compile(r'<(?!/?(p|code|em|strong|a|h\d|ul|ol|li|table|thead|tbody|tr|th|td|'
                     r'pre|blockquote|hr|br|img)\b)[a-z!/]', re.I)
MARKDOWN = MarkdownIt('commonmark', {'html': True}).enable('table')


def plain(rendered):
    """The text a reader sees in rendered HTML (tags dropped, entities read)."""
    import html
    return html.unescape(re.sub(r'<[^>]+>', '', rendered))


def squeeze(text):
    return ' '.join(text.split())


def sweep(*args, **kwargs):
    return run_script('sweep.py', *args, timeout=300, **kwargs)


# ---- escaping, one function per format ----------------------------------------------------

@pytest.mark.parametrize('text', HOSTILE)
def test_markdown_text_is_shown_as_it_is(text):
    rendered = MARKDOWN.render(f'before {markdown_text(text)} after\n')
    assert rendered.count('<p>') == 1 and '<img' not in rendered and '<script' not in rendered
    assert squeeze(plain(rendered)) == squeeze(f'before {one_line(text)} after')
    # at the start of a block too (lists, headings, quotes, setext lines)
    rendered = MARKDOWN.render(markdown_text(text) + '\n')
    assert re.fullmatch(r'<p>.*</p>\n', rendered, re.S), rendered
    assert squeeze(plain(rendered)) == squeeze(one_line(text))


@pytest.mark.parametrize('text', HOSTILE)
def test_markdown_code_and_table_cells_keep_their_shape(text):
    rendered = MARKDOWN.render(f'run {markdown_code(text)} now\n')
    code = re.findall(r'<code>(.*?)</code>', rendered, re.S)
    assert len(code) == 1 and plain(code[0]).strip() == one_line(text).strip()
    table = f'| a | b |\n|---|---|\n| {markdown_text(text) or " "} | x |\n'
    rendered = MARKDOWN.render(table)
    assert rendered.count('<td>') == 2 and '<img' not in rendered
    assert squeeze(plain(rendered.split('<td>')[1])) == squeeze(one_line(text))


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=('Cs',), blacklist_characters='\0'),
               max_size=60))
def test_any_text_survives_markdown_unchanged(text):
    rendered = MARKDOWN.render(f'x {markdown_text(text)} y\n')
    assert not RAW_TAG.search(rendered.replace('<p>', '').replace('</p>', ''))
    assert squeeze(plain(rendered)) == squeeze(f'x {one_line(text)} y')


@pytest.mark.parametrize('text', HOSTILE)
def test_a_paragraphs_parts_keep_their_spaces_in_markdown(text, tmp_path):
    """report.md shows a paragraph's words: the spaces between a code span and the text
    after it stay, hostile text at the start or inside is plain."""
    from nnlab.page import markdown as page_markdown
    from nnlab.page.doc import Code, para
    block = para(text, ' then ', Code('a.pth'), ' to ', Code('b.pth'), f' and {text}',
                 kind='note')
    shown = squeeze(plain(MARKDOWN.render(page_markdown.render([block], str(tmp_path)))))
    assert shown == squeeze(f'Note: {one_line(text)} then a.pth to b.pth and {one_line(text)}')


def test_every_field_of_the_report_and_the_summary_is_escaped(tmp_path):
    """The hostile strings through every text field that reaches report.md and summary.md,
    rendered by a CommonMark renderer: no tag of theirs survives."""
    plot, net, out = tmp_path / 'plot', tmp_path / 'net', tmp_path / 'report'
    evil = ' '.join(HOSTILE)
    schema.save(plot / 'kuzu_lin_run.json', KuzuRun(
        script='kuzu_main.py', command=f'python3 kuzu_main.py --net lin {evil}',
        argv=['--net', 'lin', evil], config=KuzuConfig(net='lin', data=evil),
        status='finished', results=KuzuResults(accuracy=70.0, correct=7000,
                                               test_images=10000, final_epoch=1,
                                               epochs=[EpochTest(1, 1.0, 7000, 70.0)])))
    schema.save(plot / 'check_step_hid1_run.json', CheckRun(
        script='check_main.py', command=f'python3 check_main.py --act step {evil}',
        config=CheckConfig(act='step', hid=1, weights=evil), status='finished',
        results=CheckResults(hid=1, final_accuracy=50.0,
                             lines=[DividingLine(evil, 1, 1, -0.5)])))
    (plot / 'kuzu_lin_params.txt').write_text(evil)
    (plot / 'kuzu_lin_confusion.jpg').write_text(evil)     # a text named like a picture
    page, markdown, _ = build_page(str(plot), str(net), str(out), [])
    text = Path(markdown).read_text()
    rendered = MARKDOWN.render(text)
    assert '<script' not in rendered and '<img src=x' not in rendered
    assert 'alert(1)' in plain(rendered)                  # shown, as text
    written = Path(page).read_text()
    assert '<script>alert' not in written and '<img src=x' not in written
    assert '<img' not in written                          # the fake picture is not embedded

    folder = tmp_path / 'sweep'
    folder.mkdir()
    values = ('<script>x</script>', '"><img src=x onerror=alert(1)>', 'a|b`c\n\nd')
    the_sweep = plan.Sweep('check_main.py', ['--act', 'sig', evil], [('weights', values)],
                           [0, 1])
    results = Results(str(folder), the_sweep.kind, the_sweep.grid_names)
    for setting in the_sweep.settings:
        for seed in (0, 1):
            results.add(setting.key, seed, {'status': 'ok', 'exit_code': 0, 'success': True,
                                            'seconds': 1.0, 'task': evil, 'error': evil})
    write_summary(str(folder), the_sweep, results)
    rendered = MARKDOWN.render((folder / 'summary.md').read_text())
    assert '<script' not in rendered and '<img' not in rendered
    assert rendered.count('<tr>') == 1 + len(values)      # one row per setting, no more


# ---- reading only what was given ----------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='no FIFOs on this system')
def test_report_reads_no_fifo_device_or_file_outside_its_folders(tmp_path):
    plot = tmp_path / 'plot'
    plot.mkdir()
    os.mkfifo(plot / 'kuzu_lin_run.json')                  # would block a plain open()
    os.symlink('/dev/zero', plot / 'kuzu_full_run.json')   # would never end
    secret = tmp_path / 'secret.txt'
    secret.write_text('the secret')
    os.symlink(secret, plot / 'kuzu_conv_params.txt')      # a link out of the folders
    out = tmp_path / 'report'
    out.mkdir()
    (out / 'runs.json').write_text(json.dumps({'format': 'nnlab-report-runs-2', 'steps': [
        {'key': 'kuzu_lin', 'part': 1, 'command': 'x', 'log': str(secret), 'exit_code': 0,
         'status': 'done', 'seconds': 1.0, 'quick': False}]}))
    started = time.monotonic()
    done = run_script('report.py', '--plot_dir', plot, '--out', out, '--sweeps',
                      cwd=tmp_path, timeout=120)
    assert time.monotonic() - started < 60
    assert done.returncode == 0, done.stderr
    assert 'not a regular file' in done.stderr
    assert 'the secret' not in (out / 'index.html').read_text()
    assert 'the secret' not in (out / 'report.md').read_text()


# ---- flags refused at once ----------------------------------------------------------------

SEQ = ['--', 'seq_train.py', '--lang', 'anb2n', '--epoch', '1']


@pytest.mark.parametrize('args, words', [
    (['--seeds', '', *SEQ], ['--seeds', 'expected a range']),
    (['--grid', 'hid=2,02', *SEQ], ['--grid hid', '2 and 02', 'same value']),
    (['--grid', 'lr=0.1,0.10', *SEQ], ['0.1 and 0.10']),
    ([*(arg for name in ('hid', 'lr', 'mom')
        for arg in ('--grid', f'{name}=' + ','.join(f'{i / 1000}' for i in range(1, 102)))),
      *SEQ],
     ['1,030,301 settings', 'more than 1,000,000']),
    (['--grid', 'hid=' + ','.join(map(str, range(2000))),
      '--grid', 'lr=' + ','.join(f'0.{i}' for i in range(1, 2001)), *SEQ],
     ['4,000,000 settings']),
])
def test_odd_flags_are_refused_at_once(tmp_path, args, words):
    started = time.monotonic()
    done = sweep('--out', tmp_path / 'out', *args)
    assert time.monotonic() - started < 30
    assert_one_line_error(done, *words)
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('flag', ['-h', '--help'])
def test_help_after_the_script_prints_the_scripts_help(tmp_path, flag):
    done = sweep('--out', tmp_path / 'out', '--', 'seq_train.py', '--lang', 'anb2n', flag)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('usage: seq_train.py') and '--lang' in done.stdout
    assert not (tmp_path / 'out').exists()


# ---- one writer per sweep folder; cleaning up only what the sweep made --------------------

@pytest.fixture(scope='module')
def small_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp('hostile') / 'sweep'
    done = sweep('--seeds', '0-1', '--jobs', '1', '--block', '1', '--out', folder, *SEQ)
    assert done.returncode == 0, done.stderr
    return folder


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*'))
            if p.is_file() and not p.is_symlink()}


@pytest.mark.slow
def test_a_second_writer_is_refused_and_changes_nothing(small_sweep):
    before = snapshot(small_sweep)
    with OutputLock(str(small_sweep), 'sweep', 'this sweep'):    # a sweep "running" here
        done = sweep('--resume', '--seeds', '0-3', '--out', small_sweep)
        assert_one_line_error(done, 'another run', f'process {os.getpid()}')
        assert snapshot(small_sweep) == {**before, '.sweep.lock': mine(small_sweep)}
        # --report meanwhile: the rows so far, only the summary files replaced
        done = sweep('--report', '--out', small_sweep)
        assert done.returncode == 0, done.stderr
        assert 'a sweep is running in this folder' in done.stdout
    after = snapshot(small_sweep)
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed <= {'summary.md', 'success.png', 'metric.png'}


def mine(folder):
    return (folder / '.sweep.lock').read_bytes()


@pytest.mark.slow
def test_cleaning_up_never_follows_links_or_removes_a_users_folder(small_sweep, tmp_path):
    outside = tmp_path / 'precious'
    outside.mkdir()
    (outside / 'thesis.tex').write_text('years of work')
    setting = next((small_sweep / 'runs').iterdir())
    os.symlink(outside, setting / 'seeds-9-9')              # a link named like a task folder
    (setting / 'my-notes').mkdir()
    (setting / 'my-notes' / 'notes.txt').write_text('mine')
    for args in (['--report'], ['--resume']):
        done = sweep(*args, '--out', small_sweep)
        assert done.returncode == 0, done.stderr
        assert (outside / 'thesis.tex').read_text() == 'years of work'
        assert (setting / 'my-notes' / 'notes.txt').read_text() == 'mine'


@pytest.mark.slow
def test_a_bad_row_is_a_warning_and_resume_runs_it_again(small_sweep):
    path = small_sweep / 'results.csv'
    lines = path.read_text().splitlines()
    first = lines[1]
    lines[2] = lines[2].replace(',ok,', ',maybe,')          # the second seed's row
    path.write_text('\n'.join(lines) + '\n')
    done = sweep('--report', '--out', small_sweep)
    assert done.returncode == 0, done.stderr
    assert f"warning: {path} row 3: its status 'maybe'" in done.stderr
    done = sweep('--resume', '--out', small_sweep)
    assert done.returncode == 0, done.stderr
    lines = path.read_text().splitlines()
    assert lines[1] == first                                # seed 0 was not run again
    assert [r['status'] for r in csv.DictReader(path.open())] == ['ok', 'ok']


# ---- fuzz: damaged records, rows and sweep files ------------------------------------------

def valid_documents():
    return [
        (KuzuRun, schema.to_dict(KuzuRun(
            script='kuzu_main.py', command='python3 kuzu_main.py --net lin', status='finished',
            config=KuzuConfig(net='lin'),
            results=KuzuResults(accuracy=70.0, correct=7000, test_images=10000, final_epoch=1,
                                epochs=[EpochTest(1, 1.0, 7000, 70.0)],
                                confusion=[[1] * 10 for _ in range(10)])))),
        (CheckRun, schema.to_dict(CheckRun(
            script='check_main.py', status='finished', config=CheckConfig(act='step', hid=1),
            results=CheckResults(hid=1, final_accuracy=50.0,
                                 lines=[DividingLine('h0', 1, 1, -0.5)])))),
        (SeqRun, schema.to_dict(SeqRun(script='seq_train.py', status='finished'))),
        (SweepDefinition, schema.to_dict(plan.Sweep(
            'seq_train.py', ['--lang', 'anb2n'], [('hid', ('2', '3'))], [0, 1, 2]
        ).to_definition())),
    ]


DOCUMENTS = valid_documents()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) |
    st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=10)


def places(value, path=()):
    """Every (container path, key) in a JSON value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield path, key
            yield from places(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield path, index
            yield from places(inner, (*path, index))


@pytest.mark.slow
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, len(DOCUMENTS) - 1), data=st.data())
def test_damaged_documents_load_or_give_a_reason(tmp_path_factory, which, data):
    kind, document = DOCUMENTS[which]
    document = json.loads(json.dumps(document))
    spots = list(places(document))
    for _ in range(data.draw(st.integers(1, 3))):
        path, key = data.draw(st.sampled_from(spots))
        target = document
        try:
            for step in path:
                target = target[step]
            if data.draw(st.booleans()) and isinstance(target, dict):
                target.pop(key, None)
            else:
                target[key] = data.draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            pass
    raw = json.dumps(document).encode()
    if data.draw(st.booleans()):
        raw = raw[:data.draw(st.integers(0, len(raw)))]       # cut short
    path = tmp_path_factory.mktemp('fuzz') / 'record.json'
    path.write_bytes(raw)
    try:
        loaded = schema.load(path, kind)
    except schema.FormatError as err:
        assert str(err) and '\n' not in str(err)
    else:
        assert isinstance(loaded, kind)


SEQ_KIND = find_kind('seq_train.py')
CELL = st.text(alphabet='0123456789.-eE,"\nokfailedTrueFalsenaN x', max_size=8)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=14), max_size=6))
def test_damaged_rows_are_skipped_with_a_warning_never_a_crash(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp('rows')
    results = Results(str(folder), SEQ_KIND, ['hid'])
    text = io.StringIO()
    writer = csv.writer(text, lineterminator='\n')
    writer.writerow(results.columns)
    writer.writerows(rows)
    (folder / 'results.csv').write_text(text.getvalue())
    try:
        results.load(warn=False)
    except Exception as err:                      # only the one-line refusal may escape
        assert type(err).__name__ == 'UserError', repr(err)
        return
    for row in results.rows.values():           # what is kept is typed, as a fresh row
        assert all(row.figures[name] is None or type(row.figures[name]) is kind
                   for name, kind in SEQ_KIND.columns)
    the_sweep = plan.Sweep('seq_train.py', [], [('hid', ('2',))], [0])
    write_summary(str(folder), the_sweep, results)        # the summary of what is left


def test_a_results_file_of_an_earlier_version_loads_with_the_new_columns_empty(tmp_path,
                                                                               capsys):
    results = Results(str(tmp_path), SEQ_KIND, ['hid'])
    older = [c for c in results.columns if c not in ('largest_n_right', 'trained_n')]
    row = {c: '' for c in older} | {'hid': '2', 'seed': '0', 'status': 'ok',
                                     'exit_code': '0', 'seconds': '1.5', 'task': 'runs/x/y'}
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=older, lineterminator='\n')
    writer.writeheader()
    writer.writerow(row)
    (tmp_path / 'results.csv').write_text(text.getvalue())
    results.load()
    assert 'written by an earlier version' in capsys.readouterr().err
    assert results.done(('2',), 0)
    assert results.rows[(('2',), 0)].figures['largest_n_right'] is None
    (tmp_path / 'results.csv').write_text('seed,status,exit_code,mine\n')
    with pytest.raises(Exception, match='not this sweep'):
        Results(str(tmp_path), SEQ_KIND, ['hid']).load()
