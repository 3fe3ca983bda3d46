"""The shared machinery every script relies on: clean failures, signals, safe files."""
import argparse
import os

import pytest

from nnlab.arguments import str2bool
from nnlab.cli import UserError, run_cli
from nnlab.files import atomic_write, atomic_write_text, ensure_dir


def test_str2bool_is_a_real_boolean():
    assert str2bool('False') is False and str2bool('false') is False and str2bool('0') is False
    assert str2bool('True') is True and str2bool('yes') is True
    with pytest.raises(argparse.ArgumentTypeError):
        str2bool('maybe')


def test_user_error_is_one_line_and_exit_2(capsys):
    def main(argv):
        raise UserError("the thing is wrong; do this instead")
    with pytest.raises(SystemExit) as exit_info:
        run_cli(main)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: the thing is wrong; do this instead"


def test_ctrl_c_exits_130_without_traceback(capsys):
    def main(argv):
        raise KeyboardInterrupt
    with pytest.raises(SystemExit) as exit_info:
        run_cli(main)
    assert exit_info.value.code == 130
    assert 'Traceback' not in capsys.readouterr().err


def test_atomic_write_keeps_old_file_when_writer_fails(tmp_path):
    target = tmp_path / 'out.txt'
    atomic_write_text(target, 'finished work')

    def broken_writer(tmp):
        with open(tmp, 'w') as f:
            f.write('half')
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, broken_writer)
    assert target.read_text() == 'finished work'
    assert os.listdir(tmp_path) == ['out.txt']  # no temporary file left behind


def test_file_in_place_of_folder_is_a_user_error(tmp_path):
    (tmp_path / 'plot').write_text('a file, not a folder')
    with pytest.raises(UserError, match='cannot create folder'):
        ensure_dir(tmp_path / 'plot' / 'sub')


def test_atomic_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / 'report.txt', 'readable by others')
    finally:
        os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o644
