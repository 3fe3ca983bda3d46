"""The README and docs/ against the code: every command they show names a script that
exists and only flags that script has, every link to a file or heading leads somewhere,
and the README keeps its promise of two set-up commands first and at most 200 lines."""
import importlib
import re
import shlex

import pytest

from nnlab import ROOT

PAGES = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
SCRIPTS = ['kuzu_main.py', 'check_main.py', 'seq_train.py', 'seq_plot.py', 'sweep.py',
           'report.py', 'explore.py']
BENCHES = ['bench_seq', 'bench_check', 'bench_kuzu']
COMMAND = re.compile(r'(python3?\s+-m\s+bench\.(\w+)|\b(\w+\.py))([^`\n|]*)')


def commands(text):
    """(script or bench module, [flags]) for each command in the text, up to the end of
    its code span, line or table cell. What follows `--` is another script's."""
    found = []
    for match in COMMAND.finditer(text):
        name = match.group(2) or match.group(3)
        rest = match.group(4).replace('\\', ' ')
        try:
            words = shlex.split(rest, comments=True)
        except ValueError:
            words = rest.split()
        if name == 'sweep.py' and '--' in words:
            at = words.index('--')
            found.append((name, words[:at]))
            if at + 1 < len(words):
                found.append((words[at + 1], words[at + 2:]))
            continue
        found.append((name, words))
    return found


def options_of(name):
    if name in BENCHES:
        module = importlib.import_module(f'bench.{name}')
        parser = module.build_parser()
    else:
        module = importlib.import_module(name.removesuffix('.py'))
        parser = module.build_parser()
    return set(re.findall(r'(?<![\w-])(--?[a-zA-Z][\w-]*)', parser.format_help()))


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_every_flag_a_page_names_exists(page):
    text = page.read_text()
    wrong = []
    for name, words in commands(text):
        if name not in SCRIPTS + BENCHES:
            continue
        options = options_of(name)
        for word in words:
            flag = word.split('=')[0]
            if re.fullmatch(r'--?[a-z][\w-]*', flag) and flag not in options \
                    and flag != '--':
                wrong.append(f'{name} {flag}')
    assert not wrong, f'{page.name}: ' + ', '.join(sorted(set(wrong)))


# The script a page's flags tables describe, where no heading above the table names one.
PAGE_SCRIPT = {'part1.md': 'kuzu_main.py', 'part2.md': 'check_main.py',
               'sweeps.md': 'sweep.py', 'report.md': 'report.py', 'explore.md': 'explore.py'}
TABLE_FLAG = re.compile(r'^\| `(--?[a-zA-Z][\w-]*)')


def table_flags(page):
    """(script, flag) for each row of a flags table (a row starting with a flag in code):
    the script is the one the nearest heading above names, else the page's own."""
    script = PAGE_SCRIPT.get(page.name)
    found = []
    for line in page.read_text().splitlines():
        if line.startswith('#'):
            named = [s for s in SCRIPTS if s in line]
            script = named[0] if named else PAGE_SCRIPT.get(page.name, script)
        match = TABLE_FLAG.match(line)
        if match and script:
            found.append((script, match.group(1)))
    return found


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_every_flag_in_a_flags_table_exists(page):
    wrong = sorted({f'{script} {flag}' for script, flag in table_flags(page)
                    if (ROOT / script).exists() and flag not in options_of(script)})
    assert not wrong, f'{page.name}: ' + ', '.join(wrong)


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_every_file_of_ours_a_page_names_exists(page):
    named = re.findall(r'`((?:nnlab|tests|bench|docs|\.ci)/[\w./-]*\w)`', page.read_text())
    missing = sorted({path for path in named if not (ROOT / path).exists()})
    assert not missing, f'{page.name}: {missing}'


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_every_link_leads_somewhere(page):
    text = page.read_text()
    broken = []
    for target in re.findall(r'\]\(([^)\s]+)\)', text):
        if re.match(r'[a-z]+:', target):
            continue
        path, _, anchor = target.partition('#')
        where = (page.parent / path).resolve() if path else page
        if not where.exists():
            broken.append(target)
        elif anchor and where.suffix == '.md' and anchor not in anchors(where.read_text()):
            broken.append(target)
    assert not broken, f'{page.name}: {broken}'


def anchors(text):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    found = set()
    for heading in re.findall(r'^#+ (.+)$', text, re.M):
        slug = re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')
        found.add(slug)
    return found


def test_the_readme_starts_with_the_two_commands_and_stays_short():
    text = (ROOT / 'README.md').read_text()
    assert len(text.splitlines()) <= 200
    blocks = re.findall(r'```bash\n(.*?)\n```', text, re.S)
    assert blocks[0].endswith('pip install -r requirements.txt && python3 kuzu_main.py '
                              '--net conv')
    assert blocks[1].endswith('pip install -r requirements-dev.txt && python3 -m pytest '
                              '-q tests')
    ci = (ROOT / '.ci' / 'run').read_text()
    assert '-m pytest -q tests' in ci and 'requirements-dev.txt' in ci
