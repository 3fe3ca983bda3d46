"""report.py: the page and the Markdown from real tiny runs, the runner's progress, failures
and Ctrl-C, and what the page does with odd or missing files (synthetic records).

The real runs (a 1-epoch NetLin on 500 images, `report.py --run --quick --part 2`, a
2,000-example anb2n SRN and its look inside) are made once per test run and shared with
tests/test_report_browser.py, also when pytest-xdist runs the two files in two workers.
"""
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import assert_one_line_error, kmnist_root, run_script

from nnlab import ROOT
from nnlab.formats import schema
from nnlab.formats.check_run import CheckConfig, CheckResults, CheckRun
from nnlab.formats.kuzu_run import EpochTest, KuzuConfig, KuzuResults, KuzuRun
from nnlab.page.build import build_page
from nnlab.page.commands import Step, steps
from nnlab.page.runner import Runner

PROGRESS = re.compile(r'^\[(\d+)/(\d+)\] python3 (\S+)( .*)? \.\.\. done in \d+\.\d s$')


def real_runs(tmp_path_factory):
    """A folder with the tiny real runs and their page, made by the first process of the
    test run that asks (the others wait for it: xdist's workers share the base folder's
    parent; filelock comes with torch)."""
    from filelock import FileLock
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get('PYTEST_XDIST_WORKER') else base
    folder = shared / 'report_runs'
    with FileLock(str(shared / 'report_runs.lock')):
        if not (folder / 'done.json').exists():
            folder.mkdir(exist_ok=True)
            make_real_runs(folder)
    return folder


def make_real_runs(folder):
    data = kmnist_root()

    done = {
        'kuzu': run_script('kuzu_main.py', '--net', 'lin', '--epochs', '1', '--train_count',
                           '500', '--data', data, '--plot_dir', 'plot', cwd=folder),
        'part2': run_script('report.py', '--run', '--quick', '--part', '2', cwd=folder),
        'seq_train': run_script('seq_train.py', '--lang', 'anb2n', '--epoch', '2', '--seed',
                                '0', '--out_path', 'net', cwd=folder),
        'seq_plot': run_script('seq_plot.py', '--lang', 'anb2n', '--epoch', '2', '--fsm',
                               '--generalise', '12', '--examples', '40', '--out_path', 'net',
                               '--plot_dir', 'plot', cwd=folder)}
    for name, result in done.items():
        assert result.returncode == 0, f'{name}: {result.stderr}'
    built = run_script('report.py', cwd=folder)
    assert built.returncode == 0, built.stderr
    outputs = {name: result.stdout for name, result in done.items()}
    (folder / 'done.json').write_text(json.dumps(outputs))
    return folder


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    return real_runs(tmp_path_factory)


@pytest.fixture(scope='module')
def printed(runs):
    return json.loads((runs / 'done.json').read_text())


@pytest.fixture(scope='module')
def page(runs):
    return (runs / 'report' / 'index.html').read_text(encoding='utf-8')


@pytest.fixture(scope='module')
def markdown(runs):
    return (runs / 'report' / 'report.md').read_text(encoding='utf-8')


class Parsed(HTMLParser):
    """The tags a test needs: images, links, ids, headings, tables, scripts."""

    def __init__(self, text):
        super().__init__()
        self.images, self.links, self.ids, self.headings, self.tags = [], [], set(), [], []
        self.tables, self._heading, self._cell = [], None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if 'id' in attrs:
            self.ids.add(attrs['id'])
        if tag == 'img':
            self.images.append(attrs.get('src', ''))
        if tag in ('a', 'link'):
            self.links.append(attrs.get('href', ''))
        if tag in ('h1', 'h2', 'h3', 'h4'):
            self._heading = ''
        if tag == 'table':
            self.tables.append([])
        if tag == 'tr':
            self.tables[-1].append([])
        if tag in ('td', 'th'):
            self._cell = ''

    def handle_endtag(self, tag):
        if tag in ('h1', 'h2', 'h3', 'h4') and self._heading is not None:
            self.headings.append(self._heading)
            self._heading = None
        if tag in ('td', 'th') and self._cell is not None:
            self.tables[-1][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading += data
        if self._cell is not None:
            self._cell += data


def text_of(page):
    """The page's text, unescaped (what a reader sees, tags dropped)."""
    return html.unescape(re.sub(r'<[^>]+>', '', page))


def between(text, start, end):
    """The text from heading `start` to heading `end` (their last appearance: the first is
    in the contents)."""
    return text[text.rindex(start):text.rindex(end)]


# --- the page from real runs -------------------------------------------------------------

@pytest.mark.slow
def test_part1_quotes_the_printed_accuracy_line_and_matrix(page, printed):
    line = [x for x in printed['kuzu'].splitlines() if x.startswith('Test set:')][-1]
    text = text_of(page)
    assert line in text
    params = [x for x in printed['kuzu'].splitlines() if x.startswith('fc: ')][0]
    assert params in text                           # the parameter arithmetic
    matrix = [t for t in Parsed(page).tables if t and t[0][:2] == ['true \\ predicted', '0 o']]
    assert len(matrix) == 1 and len(matrix[0]) == 11
    # the printed matrix's first row, as whole numbers, is the table's first row
    first = re.search(r'\[\[([^\]]+)\]', printed['kuzu']).group(1)
    assert [str(int(float(v))) for v in first.split()] == matrix[0][1][1:]


@pytest.mark.slow
def test_part2_has_each_runs_lines_and_table(runs, page):
    text = text_of(page)
    logs = sorted((runs / 'report' / 'logs').glob('check_*.txt'))
    assert len(logs) == 3
    for log in logs:
        lines = log.read_text().splitlines()
        start = lines.index(next(x for x in lines if x.startswith('Dividing lines')))
        for line in lines[start + 1:start + 4]:     # the units' equations, as printed
            assert line.startswith('h') and line in text, line
    tables = [t for t in Parsed(page).tables if t and t[0][:3] == ['x', 'y', 'h0']]
    assert len(tables) == 3                         # one activation table per run
    assert all(len(t) == 10 for t in tables)        # a header and the 9 points
    step = next(t for t in tables if t[0][2:6] == ['h0', 'h1', 'h2', 'h3'] and
                t[1][6] == '0.000' and t[2][6] == '1.000')
    assert all(row[-1] == '' for row in step[1:])  # the hand-designed net is never wrong
    # ... all drawn from the records' data: they keep no printed text to parse
    for path in (runs / 'plot').glob('check_*/check_*_run.json'):
        assert 'Final Weights' not in path.read_text() and 'report_text' not in path.read_text()


@pytest.mark.slow
def test_part2_runs_keep_their_own_pictures(runs, page):
    names = {unquote(m) for m in re.findall(r'<code>(plot/check_[a-z0-9]+/[^<]+)</code>', page)}
    for folder, hid in (('check_sig5', 5), ('check_step4', 4), ('check_sig4', 4)):
        expected = {f'plot/{folder}/check.jpg', f'plot/{folder}/out_{hid}.jpg',
                    *(f'plot/{folder}/hid_{hid}_{j}.jpg' for j in range(hid))}
        assert expected <= names, folder


@pytest.mark.slow
def test_part3_has_the_verdict_and_the_machine(runs, page, printed):
    text = text_of(page)
    verdict = [x for x in printed['seq_train'].splitlines() if x.startswith('anb2n: ')][0]
    assert verdict in text
    analysis = json.loads((runs / 'plot' / 'anb2n_srn2_analysis.json').read_text())
    assert analysis['fsm']['text'].strip('\n') in text
    # the command seq_plot.py recorded in its analysis file, as the user typed it
    assert analysis['command'].startswith('python3 seq_plot.py --lang anb2n')
    assert '--fsm' in analysis['command'] and analysis['command'] in text
    # how far it counts: seq_plot's line as printed, its table folded, its picture
    line = [x for x in printed['seq_plot'].splitlines() if x.startswith('generalisation: ')]
    assert line and line[0] in text and 'checked n = 1..12' in line[0]
    folded = re.search(r'<details class="text"><summary class="cap">Every n checked, '
                       r'1\.\.12</summary><pre>(.*?)</pre></details>', page, re.S)
    assert folded and len(html.unescape(folded.group(1)).splitlines()) == 1 + 12
    assert 'generalise.jpg' in page and 'Beyond the training lengths: ' in page


@pytest.mark.slow
def test_missing_questions_say_what_to_run(page):
    text = text_of(page)
    for command in ('python3 kuzu_main.py --net full', 'python3 kuzu_main.py --net conv',
                    'python3 seq_train.py --lang anb2nc3n --model lstm --hid 3 --restarts 4',
                    'python3 seq_plot.py --lang anb2nc3n --model lstm --hid 3 --epoch 100 '
                    '--fsm --context --explain'):
        assert f'Run {command}' in text or f'then {command}' in text, command


@pytest.mark.slow
def test_shortened_runs_are_marked_at_the_top_and_at_the_question(page):
    text = text_of(page)
    top = text[:text.index('Contents')]
    assert 'shortened runs' in top
    assert 'Part 1 question 1' in top and 'Part 3 question 1' in top
    assert 'Part 2' not in top          # seed 0 finishes well within --epoch 20000
    assert 'Shortened run: 1 epoch instead of 10, 500 training images' in text
    assert 'Shortened run: 2,000 training examples instead of 100,000' in text


@pytest.mark.slow
def test_page_is_self_contained(runs, page):
    parsed = Parsed(page)
    assert 'script' not in parsed.tags and 'iframe' not in parsed.tags
    assert len(parsed.images) >= 19 + 1 + 3     # Part 2: 7 + 6 + 6; kuzu 1+; anb2n 3+
    assert all(src.startswith(('data:image/jpeg;base64,', 'data:image/png;base64,'))
               for src in parsed.images)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "default-src 'none'" in page        # the browser refuses anything external
    for link in parsed.links:
        if link.startswith('#'):
            assert link[1:] in parsed.ids, link      # the contents lead somewhere
        else:
            assert (runs / 'report' / unquote(link)).exists(), link


@pytest.mark.slow
def test_markdown_links_the_picture_files_and_has_the_same_headings(runs, page, markdown):
    targets = re.findall(r'!\[[^\]]*\]\(([^)]+)\)', markdown)
    assert len(targets) == len(Parsed(page).images)
    for target in targets:
        assert target.startswith('../plot/')
        assert (runs / 'report' / unquote(target)).is_file(), target
    md_headings = [re.sub(r'\\(.)', r'\1', line.lstrip('#').strip())
                   for line in markdown.splitlines() if re.match(r'#{1,4} ', line)]
    assert md_headings == Parsed(page).headings


@pytest.mark.slow
def test_run_prints_progress_per_command(runs, printed):
    lines = [x for x in printed['part2'].splitlines() if x.startswith('[')]
    assert len(lines) == 3
    for number, line in enumerate(lines, 1):
        match = PROGRESS.match(line)
        assert match, line
        assert match.group(1, 2, 3) == (str(number), '3', 'check_main.py')
    manifest = json.loads((runs / 'report' / 'runs.json').read_text())
    assert [s['status'] for s in manifest['steps']] == ['finished'] * 3
    assert all(s['quick'] for s in manifest['steps'])


# --- the command list ---------------------------------------------------------------------

def test_command_list_is_the_assignments():
    full = [s.command() for s in steps()]
    assert full[:3] == [f'python3 kuzu_main.py --net {n} --plot_dir plot --save '
                        f'{os.path.join("net", f"kuzu_{n}.pth")}' for n in ('lin', 'full', 'conv')]
    assert full[3] == ('python3 check_main.py --act sig --hid 5 --restarts 8 --first '
                       '--plot_dir plot/check_sig5')
    assert 'python3 seq_train.py --lang anb2n --restarts 8 --out_path net' in full
    assert ('python3 seq_plot.py --lang anb2nc3n --model lstm --hid 3 --epoch 100 --fsm '
            '--context --explain --out_path net --plot_dir plot') in full
    assert len(full) == 10 and len(steps(extra=True)) == 16
    assert all('--epoch' not in c or 'seq_plot' in c for c in full)   # nothing shortened
    quick = [s.command(quick=True) for s in steps()]
    assert all('--epochs 1' in c for c in quick[:3])
    assert {s.needs for s in steps() if s.script == 'seq_plot.py'} == {
        'seq_anb2n_srn2', 'seq_anb2nc3n_lstm3'}


def test_flags_that_need_run_are_refused_without_it(tmp_path):
    done = run_script('report.py', '--quick', '--out', tmp_path / 'r', cwd=tmp_path)
    assert_one_line_error(done, '--quick', 'add --run')
    assert not (tmp_path / 'r').exists()


# --- the runner: failures and Ctrl-C ------------------------------------------------------

def write_script(path, body):
    path.write_text('import os, signal, sys, time\n' + body)
    return str(path)


def test_a_failing_command_is_reported_in_the_page_and_the_rest_goes_on(tmp_path):
    fail = write_script(tmp_path / 'fail.py', 'print("error: no KMNIST files; set KUZU_DATA", '
                                              'file=sys.stderr)\nsys.exit(2)\n')
    fine = write_script(tmp_path / 'fine.py', 'print("fine")\n')
    chosen = [Step('kuzu_lin', 1, fail, (), None),
              Step('seq_anb2n_srn2', 3, fail, ('--lang', 'anb2n'), None),
              Step('seq_anb2n_srn2_plot', 3, fine, (), None, needs='seq_anb2n_srn2'),
              Step('kuzu_full', 1, fine, (), None)]
    said = []
    out = tmp_path / 'report'
    unfinished = Runner(chosen, str(out), say=lambda *a, **k: said.append(' '.join(a))).run()
    assert unfinished == 3
    statuses = [s['status'] for s in json.loads((out / 'runs.json').read_text())['steps']]
    assert statuses == ['failed', 'failed', 'skipped', 'finished']
    assert said[0].startswith('[1/4] python3 ') and 'exit code 2' in said[1]
    assert 'error: no KMNIST files; set KUZU_DATA' in said[1]
    build_page(str(tmp_path / 'plot'), str(tmp_path / 'net'), str(out), [])
    text = text_of((out / 'index.html').read_text())
    netlin = between(text, '1. NetLin', '2. NetFull')
    assert 'failed (exit code 2): error: no KMNIST files; set KUZU_DATA' in netlin
    assert 'Its output: logs/kuzu_lin.txt' in netlin
    assert 'was skipped: it reads the files of seq_anb2n_srn2, which failed' in text


def test_running_some_parts_keeps_what_an_earlier_run_recorded_of_the_others(tmp_path):
    fine = write_script(tmp_path / 'fine.py', 'print("Final Weights: " + sys.argv[-1])\n')
    out = str(tmp_path / 'report')
    quiet = lambda *a, **k: None                                    # noqa: E731
    Runner([Step('check_sig5', 2, fine, ('first',), None),
            Step('kuzu_lin', 1, fine, ('first',), None)], out, say=quiet).run()
    Runner([Step('kuzu_lin', 1, fine, ('again',), None)], out, quick=True, say=quiet).run()
    entries = json.loads((tmp_path / 'report' / 'runs.json').read_text())['steps']
    assert [(e['key'], e['argv'], e['quick']) for e in entries] == [
        ('check_sig5', ['first'], False), ('kuzu_lin', ['again'], True)]
    logs = tmp_path / 'report' / 'logs'
    assert 'first' in (logs / 'check_sig5.txt').read_text()     # still there for the page
    assert 'again' in (logs / 'kuzu_lin.txt').read_text()


def test_ctrl_c_stops_the_command_once_and_the_page_is_still_built(tmp_path):
    slow = write_script(tmp_path / 'slow.py', (
        'count = 0\n'
        'def stop(signum, frame):\n'
        '    global count\n'
        '    count += 1\n'
        'signal.signal(signal.SIGINT, stop)\n'
        'print("started", flush=True)\n'
        'while not count:\n'
        '    time.sleep(0.05)\n'
        'time.sleep(0.5)     # a second signal would arrive meanwhile\n'
        'print(f"signals: {count}", flush=True)\n'
        'sys.exit(130)\n'))
    driver = tmp_path / 'driver.py'
    driver.write_text(
        f'import sys\nsys.path.insert(0, {str(ROOT)!r})\n'
        'from nnlab.cli import run_cli\n'
        'from nnlab.page.build import build_page\n'
        'from nnlab.page.commands import Step\n'
        'from nnlab.page.runner import Runner\n'
        'def main(argv):\n'
        f'    chosen = [Step("kuzu_lin", 1, {slow!r}, (), None),\n'
        f'              Step("kuzu_full", 1, {slow!r}, (), None)]\n'
        '    Runner(chosen, "report").run()\n'
        '    build_page("plot", "net", "report", [])\n'
        'run_cli(main)\n')
    proc = subprocess.Popen([sys.executable, str(driver)], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = tmp_path / 'report' / 'logs' / 'kuzu_lin.txt'
    deadline = time.monotonic() + 30
    while not (log.exists() and 'started' in log.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)     # what Ctrl-C at the terminal sends report.py
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert 'signals: 1' in log.read_text()      # passed on once, not twice
    assert 'interrupted after' in out
    steps_run = json.loads((tmp_path / 'report' / 'runs.json').read_text())['steps']
    assert [s['status'] for s in steps_run] == ['interrupted', 'not run']
    text = text_of((tmp_path / 'report' / 'index.html').read_text())
    assert 'was not run: stopped by Ctrl-C before it started' in text


# --- odd and missing files (synthetic) ----------------------------------------------------

def picture_file(path, colour=(200, 30, 30)):
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', (40, 30), colour).save(path)
    return str(path)


def record(path, kind, command, config, results, started='2026-12-01T10:00:00+00:00'):
    """A run record of format `kind` (nnlab/formats), as the scripts write them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    schema.save(path, kind(script=kind.SCRIPT, command=command, argv=command.split()[2:],
                           config=config, results=results, seeds=[0], started=started,
                           status='finished', wall_seconds=1.0))


def test_text_from_files_is_escaped(tmp_path):
    plot = tmp_path / 'plot'
    record(plot / 'kuzu_lin_run.json', KuzuRun,
           'python3 kuzu_main.py --net lin <script>alert(1)</script>', KuzuConfig(net='lin'),
           KuzuResults(accuracy=70.0, correct=7000, test_images=10000, final_epoch=10,
                       epochs=[EpochTest(10, 1.0, 7000, 70.0)]))
    (plot / 'kuzu_lin_params.txt').write_text('fc: 784*10 + 10 = 7850 <b>&amp;</b>\n')
    page, text, _ = build_page(str(plot), str(tmp_path / 'net'), str(tmp_path / 'r'), [])
    written = Path(page).read_text()
    assert '<script>' not in written and '&lt;script&gt;alert(1)&lt;/script&gt;' in written
    assert '&lt;b&gt;&amp;amp;&lt;/b&gt;' in written
    assert 'Test set: Average loss: 1.0000, Accuracy: 7000/10000 (70%)' in text_of(written)
    # in Markdown the command is code, where <script> is shown as it is, not run
    assert '`python3 kuzu_main.py --net lin <script>alert(1)</script>`' in Path(text).read_text()


def test_pictures_overwritten_by_a_later_run_are_not_shown_as_the_earlier_runs(tmp_path):
    plot = tmp_path / 'plot'
    shared = [picture_file(plot / name) for name in ('check.jpg', 'hid_4_0.jpg', 'out_4.jpg')]
    designed = CheckConfig(act='step', hid=4, set_weights=True)
    record(plot / 'check_step_hid4_run.json', CheckRun,
           'python3 check_main.py --act step --hid 4 --set_weights', designed,
           CheckResults(hid=4, final_accuracy=100.0, pictures=shared),
           '2026-12-01T10:00:00+00:00')
    record(plot / 'check_sig_hid4_run.json', CheckRun,
           'python3 check_main.py --act sig --hid 4 --set_weights',
           CheckConfig(act='sig', hid=4, set_weights=True),
           CheckResults(hid=4, final_accuracy=100.0, pictures=shared),
           '2026-12-01T10:05:00+00:00')
    page, _, blocks = build_page(str(plot), str(tmp_path / 'net'), str(tmp_path / 'r'), [])
    text = text_of(Path(page).read_text())
    step = between(text, '2. The hand-designed', '3. The same weights')
    sig = between(text, '3. The same weights', 'Part 3')
    assert 'Pictures not shown: check.jpg, hid_4_0.jpg, out_4.jpg were overwritten' in step
    assert 'plot/hid_4_0.jpg' in sig and 'plot/hid_4_0.jpg' not in step


def test_part2_is_drawn_from_the_records_data_with_check_mains_formatting(tmp_path):
    from nnlab.formats.check_run import DividingLine, Point
    points = [Point(0.0, 0.0, 0.0, [0.0], 0.0), Point(2.0, 1.0, 0.0, [1.0], 1.0)]
    record(tmp_path / 'plot' / 'check_step_hid1_run.json', CheckRun,
           'python3 check_main.py --act step --weights mine.json',
           CheckConfig(act='step', hid=1, weights='mine.json'),
           CheckResults(hid=1, final_accuracy=50.0, lines=[DividingLine('h0', 1, 1, -0.5)],
                        points=points))
    page, _, _ = build_page(str(tmp_path / 'plot'), str(tmp_path / 'net'),
                            str(tmp_path / 'r'), [])
    written = Path(page).read_text()
    assert 'h0: 1.00*x + 1.00*y - 0.50 = 0  (y = -x + 0.50)' in text_of(written)
    assert 'Final Accuracy:  50.0' in text_of(written)
    table = [t for t in Parsed(written).tables if t[0][:2] == ['x', 'y']][0]
    assert table == [['x', 'y', 'h0', 'output', 'target', 'wrong?'],
                     ['0.00', '0.00', '0.000', '0.000', '0', ''],
                     ['2.00', '1.00', '1.000', '1.000', '0', 'wrong']]


def test_sweep_folders_are_included(tmp_path):
    sweep = tmp_path / 'sweeps' / 'check_main'
    sweep.mkdir(parents=True)
    (sweep / 'results.csv').write_text('seed,success\n0,1\n1,0\n')
    (sweep / 'summary.md').write_text('| setting | success |\n|---|---|\n| hid 5 | 1/2 |\n')
    picture_file(sweep / 'success.png')
    gone = tmp_path / 'nowhere'
    page, text, _ = build_page(str(tmp_path / 'plot'), str(tmp_path / 'net'),
                                 str(tmp_path / 'r'), [str(sweep), str(gone)])
    shown = text_of(Path(page).read_text())
    assert '2 runs in' in shown and '| hid 5 | 1/2 |' in shown
    assert 'No such folder' in shown
    assert Path(page).read_text().count('<img') == 1
    assert '../sweeps/check_main/success.png' in Path(text).read_text()


def test_no_runs_at_all_gives_a_page_that_says_what_to_run(tmp_path):
    done = run_script('report.py', '--sweeps', cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = text_of((tmp_path / 'report' / 'index.html').read_text())
    assert text.count('No results yet') == 3 + 3 + 2
    assert 'python3 check_main.py --act sig --hid 5 --restarts 8 --first' in text
    assert os.path.getsize(tmp_path / 'report' / 'report.md') > 1000


def test_the_explore_page_is_linked_when_it_exists(tmp_path):
    out = tmp_path / 'report'
    page, text, _ = build_page(str(tmp_path / 'plot'), str(tmp_path / 'net'), str(out), [])
    assert 'explore.py' not in Path(page).read_text()
    (tmp_path / 'explore').mkdir()
    (tmp_path / 'explore' / 'index.html').write_text('<!DOCTYPE html>')
    page, text, _ = build_page(str(tmp_path / 'plot'), str(tmp_path / 'net'), str(out), [])
    assert 'href="../explore/index.html"' in Path(page).read_text()
    assert '(../explore/index.html)' in Path(text).read_text()

