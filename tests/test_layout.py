"""The code's layout rules, checked on the source: no import circles (function-level
imports counted), no private attribute of another library, script knowledge in the
sweep's script definitions only."""
import ast
import re
from pathlib import Path

from nnlab import ROOT

SCRIPTS = ('kuzu_main.py', 'check_main.py', 'seq_train.py', 'seq_plot.py', 'sweep.py',
           'report.py', 'explore.py')


def project_files():
    files = [p for p in ROOT.glob('*.py')]
    files += sorted((ROOT / 'nnlab').rglob('*.py'))
    return files


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def imports_of(path, known):
    """The project modules `path` imports, anywhere in it (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f'{node.module}.{a.name}' for a in node.names]
        else:
            continue
        found.update(n for n in names if n in known)
    return found


def test_no_import_circles():
    files = {module_name(p): p for p in project_files()}
    graph = {name: imports_of(path, files) - {name} for name, path in files.items()}
    # a package's __init__ is imported with any of its modules
    for name in list(graph):
        parent = name.rsplit('.', 1)[0] if '.' in name else None
        if parent in graph:
            graph[name].add(parent)
    circles, state = [], {}

    def visit(node, trail):
        state[node] = 'open'
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 'open':
                circles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 'done'

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert circles == [], circles


# Underscore names that are documented public API: os._exit (end now, without teardown).
PUBLIC = {('os', '_exit')}


def test_no_private_attribute_of_another_library():
    hits = []
    for path in project_files():
        tree = ast.parse(path.read_text(encoding='utf-8'))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and re.fullmatch(r'_[a-z]\w*', node.attr):
                owner = node.value
                if isinstance(owner, ast.Name) and (owner.id in ('self', 'cls') or
                                                    (owner.id, node.attr) in PUBLIC):
                    continue
                hits.append(f'{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}')
    assert hits == []


def test_script_names_are_branched_on_only_in_the_sweeps_script_definitions():
    branch = re.compile(r"""(==|!=|\bin)\s*\(?\s*['"](\w+)\.py['"]""")
    hits = []
    for path in project_files():
        if path.relative_to(ROOT).as_posix() == 'nnlab/sweep/scripts.py':
            continue
        for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
            if branch.search(line) or 'import args as types' in line:
                hits.append(f'{path.relative_to(ROOT)}:{number}: {line.strip()}')
    assert hits == []


def test_the_course_files_stay_at_the_top():
    for name in ('kuzu.py', 'check.py', 'seq_models.py', 'anb2n.py', 'reber.py', 'check.csv',
                 *SCRIPTS[:-1]):
        assert (ROOT / name).is_file(), name
    assert Path(ROOT / 'plot').is_dir()
