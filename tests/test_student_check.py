"""The student's check.py weights section: every mistake is one error line naming check.py
and the line (exit 2); an edited design of another size works.

Each test writes an edited copy of check.py into a temporary folder that comes first on
sys.path and runs check_main.py in-process, as the command line does."""
import pytest
from student_copies import edited_copies, line_of

import check_main
from nnlab.cli import run_cli


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    return edited_copies(tmp_path, monkeypatch, 'check')


def run_check(capsys, *flags):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(check_main.main, ['--plot_dir', 'plot', *flags])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


MISTAKES = {
    # name: (edits, the line's snippet or None, words the error must hold, extra flags)
    'one weight too many': ([('HID_OUT_WEIGHT = [[1.0, -1.0, 1.0, -1.0]]',
                              'HID_OUT_WEIGHT = [[1.0, -1.0, 1.0, -1.0, 1.0]]')],
                            'HID_OUT_WEIGHT =',
                            ['HID_OUT_WEIGHT', 'shape [1, 5]', 'must be [1, 4]'], ()),
    'not a number': ([('HID_BIAS = [-0.5, -1.5, -2.5, -3.5]',
                       "HID_BIAS = [-0.5, -1.5, '2.5', -3.5]")],
                     'HID_BIAS =', ['HID_BIAS', '"2.5"', 'not a number'], ()),
    'not finite': ([('OUT_BIAS = [-0.5]', "OUT_BIAS = [float('nan')]")],
                   'OUT_BIAS =', ['OUT_BIAS', 'not a finite number'], ()),
    'ragged rows': ([('                 [1.0, 1.0],\n                 [1.0, 1.0]]',
                      '                 [1.0, 1.0],\n                 [1.0]]')],
                    'IN_HID_WEIGHT =', ['IN_HID_WEIGHT', 'rows of different lengths'], ()),
    'a number, not a list': ([('OUT_BIAS = [-0.5]', 'OUT_BIAS = -0.5')], 'OUT_BIAS =',
                             ['OUT_BIAS is a float, not a list'], ()),
    'a list missing': ([('OUT_BIAS = [-0.5]', 'OUT_BIAS_ = [-0.5]')], None,
                       ["weights section has no OUT_BIAS"], ()),
    'hid against --hid': ([], 'IN_HID_WEIGHT =', ['4 hidden units', 'not --hid 5', '--hid 4'],
                          ('--hid', '5')),
    'syntax error': ([('HID_BIAS = [-0.5, -1.5, -2.5, -3.5]',
                       'HID_BIAS = [-0.5, -1.5, -2.5, -3.5')],
                     'HID_BIAS =', ['syntax error', 'never closed'], ()),
}


@pytest.mark.parametrize('mistake', MISTAKES)
def test_a_mistake_in_the_weights_section_is_one_line_with_its_line(mistake, checkout, capsys):
    edits, snippet, words, flags = MISTAKES[mistake]
    text = checkout(edits)
    code, _, err = run_check(capsys, '--act', 'step', '--set_weights', *flags)
    assert code == 2, err
    assert err.count('\n') == 1 and err.startswith('error: ') and 'Traceback' not in err, err
    assert 'check.py' in err and 'bug in the toolkit' not in err, err
    if snippet is not None:
        wanted = line_of(text, snippet)
        assert f'line {wanted},' in err or f'line {wanted}:' in err, err
    for word in words:
        assert word in err, err


def test_an_edited_design_of_five_units_is_used_at_its_size(checkout, capsys):
    # a fifth unit that the output ignores: still every point right, with 5 hidden units
    checkout([('                 [1.0, 1.0]]', '                 [1.0, 1.0],\n'
                                               '                 [0.0, 1.0]]'),
              ('HID_BIAS = [-0.5, -1.5, -2.5, -3.5]', 'HID_BIAS = [-0.5, -1.5, -2.5, -3.5, 0.0]'),
              ('HID_OUT_WEIGHT = [[1.0, -1.0, 1.0, -1.0]]',
               'HID_OUT_WEIGHT = [[1.0, -1.0, 1.0, -1.0, 0.0]]')])
    code, out, err = run_check(capsys, '--act', 'step', '--set_weights')
    assert code == 0, err
    assert 'Initial Accuracy:  100.0' in out
    assert 'hid_5_4.jpg' in out                       # the pictures are of 5 units


@pytest.mark.parametrize('name', ['kuzu.py', 'check.py', 'seq_models.py'])
def test_the_shipped_files_import_nothing_but_torch(name):
    # a handed-in copy must run under the course's own scripts, without this toolkit
    import ast
    import sys

    from nnlab import ROOT
    tree = ast.parse((ROOT / name).read_text())
    imported = {alias.name.split('.')[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split('.')[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert 'torch' in imported
    assert imported - {'torch'} <= set(sys.stdlib_module_names), imported
