"""The student's kuzu.py: typical mistakes are one error line naming their file and line
(exit 2), and course-style files that only do what the assignment asks all run.

Each test writes an edited copy of kuzu.py into a temporary folder that comes first on
sys.path and runs kuzu_main.py in-process, as the command line does."""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import torch
from conftest import ROOT
from student_copies import edited_copies, line_of

import kuzu_main
from nnlab.cli import run_cli
from nnlab.kmnist import nets
from nnlab.kmnist.tables import parameter_counts

ORIGINAL = (ROOT / 'kuzu.py').read_text()

# The assignment's three classes written as a student would, with nothing of ours.
COURSE_STYLE = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F


class NetLin(nn.Module):
    def __init__(self):
        super(NetLin, self).__init__()
        self.linear = nn.Linear(28 * 28, 10)

    def forward(self, x):
        x = x.view(x.shape[0], -1)
        return F.log_softmax(self.linear(x), dim=1)


class NetFull(nn.Module):
    def __init__(self):
        super(NetFull, self).__init__()
        self.hidden = nn.Linear(784, 130)
        self.output = nn.Linear(130, 10)

    def forward(self, x):
        x = torch.tanh(self.hidden(x.view(x.shape[0], -1)))
        return F.log_softmax(self.output(x), dim=1)


class NetConv(nn.Module):
    # the course's example: 64 5x5 filters, 128 3x3 filters, a fully connected output
    def __init__(self):
        super(NetConv, self).__init__()
        self.conv1 = nn.Conv2d(1, 64, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(64, 128, kernel_size=3, padding=1)
        self.fc = nn.Linear(128 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc(x), dim=1)
'''


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    return edited_copies(tmp_path, monkeypatch, 'kuzu')


def run_kuzu(capsys, data_dir, *flags):
    """kuzu_main.py in-process on 64 images, 1 epoch: (exit code, stdout, stderr)."""
    argv = ['--data', str(data_dir), '--epochs', '1', '--train_count', '64',
            '--plot_dir', 'plot', *flags]
    with pytest.raises(SystemExit) as exit_info:
        run_cli(kuzu_main.main, argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def one_error(capsys, data_dir, net):
    code, _, err = run_kuzu(capsys, data_dir, '--net', net)
    assert code == 2, err
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith('error: ')]
    assert len(errors) == 1 and 'Traceback' not in err and 'bug in the toolkit' not in err, err
    return errors[0]


MISTAKES = {
    # name: (net, edits, the line's snippet or None, words the error must hold)
    'syntax error': ('lin', [('self.fc = nn.Linear(28 * 28, 10)',
                              'self.fc = nn.Linear(28 * 28, 10')],
                     'self.fc = nn.Linear(28 * 28, 10', ['syntax error', 'never closed']),
    'import error': ('lin', [('import torch.nn as nn\n', 'import torch.nn as nn\nimport nump\n')],
                     'import nump', ['No module named', 'nump']),
    'missing class': ('conv', [('class NetConv(nn.Module)', 'class NetConvolution(nn.Module)')],
                      None, ['defines no NetConv']),
    'linear sizes': ('conv', [('nn.Linear(32 * 7 * 7, 128', 'nn.Linear(32 * 6 * 6, 128')],
                     'self.bn3(self.fc(',
                     ['NetConv.forward', 'layer fc (Linear) expects 1152 inputs',
                      'the layer before gives 1568']),
    'conv channels': ('conv', [('nn.Conv2d(16, 32, 3', 'nn.Conv2d(8, 32, 3')],
                      'self.conv2(x)', ['layer conv2 (Conv2d) expects 8 input channels',
                                        'gives 16']),
    'attribute typo': ('full', [('self.out(torch.tanh(self.hid(',
                                 'self.out(torch.tanh(self.hidden(')],
                       'self.hidden(', ['NetFull.forward', "no attribute 'hidden'"]),
    'error in __init__': ('lin', [('self.fc = nn.Linear(28 * 28, 10)',
                                   'self.fc = nn.Linear(28 * 28, 10, bias=None + 1)')],
                          'bias=None + 1', ['NetLin.__init__', 'TypeError']),
    # the checks after the forward pass name the line of the method (NetLin's comes first)
    'five columns': ('lin', [('nn.Linear(28 * 28, 10)', 'nn.Linear(28 * 28, 5)')], 'def forward',
                     ['NetLin.forward', 'returns shape [3, 5]',
                      'expected a tensor of shape (3, 10)']),
    'view(64, -1)': ('lin', [('self.fc(x.flatten(1))', 'self.fc(x.view(64, -1))')], 'view(64, -1)',
                     ['NetLin.forward', "shape '[64, -1]' is invalid", 'x.view(x.size(0), -1)']),
    'view(-1, 320)': ('conv', [('self.bn3(self.fc(x.flatten(1)))',
                                'self.bn3(self.fc(x.view(-1, 320)))')], 'view(-1, 320)',
                      ['NetConv.forward', "shape '[-1, 320]' is invalid",
                       'the size after -1 must be the number of values one image has']),
    'not finite': ('lin', [('F.log_softmax(self.fc(x.flatten(1)), dim=1)',
                            'F.log_softmax(self.fc(x.flatten(1)), dim=1) / 0')], 'def forward',
                   ['NetLin.forward', 'not finite numbers']),
    'returns a tuple': ('lin', [('return F.log_softmax(self.fc(x.flatten(1)), dim=1)',
                                 'return F.log_softmax(self.fc(x.flatten(1)), dim=1), x')],
                        'def forward', ['NetLin.forward', 'returns a tuple']),
    'constructor argument': ('lin', [('def __init__(self):\n        super().__init__()\n'
                                      '        self.fc = nn.Linear(28 * 28, 10)',
                                      'def __init__(self, size):\n        super().__init__()\n'
                                      '        self.fc = nn.Linear(28 * 28, size)')],
                             'def __init__(self, size)',
                             ['NetLin.__init__', 'cannot be called with no arguments']),
    # passes the check in eval mode, fails at the first training step: still theirs
    'only in training': ('lin', [('return F.log_softmax(self.fc(x.flatten(1)), dim=1)',
                                  'if self.training:\n            x = self.dropuot(x)\n'
                                  '        return F.log_softmax(self.fc(x.flatten(1)), dim=1)')],
                         'self.dropuot(x)', ['NetLin.forward', "no attribute 'dropuot'"]),
}


@pytest.mark.parametrize('mistake', MISTAKES)
def test_a_mistake_in_kuzu_py_is_one_line_with_its_file_and_line(
        mistake, checkout, capsys, data_dir):
    net, edits, snippet, words = MISTAKES[mistake]
    text = checkout(edits=edits)
    line = one_error(capsys, data_dir, net)
    assert 'kuzu.py' in line
    if snippet is not None:
        wanted = line_of(text, snippet)
        assert f'line {wanted},' in line or f'line {wanted}:' in line, line
    for word in words:
        assert word in line, line


def test_rows_that_are_not_log_probabilities_are_one_warning(checkout, capsys, data_dir):
    checkout(edits=[('return F.log_softmax(self.fc(x.flatten(1)), dim=1)',
                     'return self.fc(x.flatten(1))')])
    code, out, err = run_kuzu(capsys, data_dir, '--net', 'lin')
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith('warning: ')]
    assert len(warnings) == 1, err
    assert 'NetLin.forward' in warnings[0] and 'log_softmax' in warnings[0]
    assert 'not the cross-entropy' in warnings[0]


def test_a_course_style_file_with_only_the_three_classes_runs(checkout, capsys, data_dir):
    checkout(text=COURSE_STYLE)
    code, out, err = run_kuzu(capsys, data_dir, '--net', 'full', '--hid', '50')
    assert code == 0, err
    # NetFull() here takes no hidden size: --hid is reported unused, the file's 130 train
    assert err.count('--hid 50 is not used') == 1 and 'NetFull() takes no hidden size' in err
    assert 'hidden: 784*130 + 130 = 102050' in out
    assert 'Test set: Average loss' in out and 'warning' not in err


def test_the_course_example_netconv_counts_138250(checkout):
    checkout(text=COURSE_STYLE)
    net = nets.make_net('conv')
    assert parameter_counts(net).splitlines()[-1] == 'total: 1664 + 73856 + 62730 = 138250'
    assert nets.check_contract(net, 'conv', torch.randn(3, 1, 28, 28)) == []


def test_a_view_flattening_netconv_trains_in_the_default_layout(checkout, capsys, data_dir):
    # view() after max-pooling a channels-last tensor fails: our optimisation must not apply
    checkout(text=COURSE_STYLE)
    images = torch.randn(3, 1, 28, 28)
    assert not nets.runs_channels_last(nets.make_net('conv'), images)
    net = nets.make_net('conv')
    with pytest.raises(RuntimeError):      # what it did before the check
        net.to(memory_format=torch.channels_last)(
            images.contiguous(memory_format=torch.channels_last))
    # the same net with fewer filters (a test pass of the example takes long) trains
    checkout(text=COURSE_STYLE.replace('64', '4').replace('128', '8'))
    code, out, err = run_kuzu(capsys, data_dir, '--net', 'conv')
    assert code == 0, err
    assert 'total: 104 + 296 + 3930 = 4330' in out and 'Test set:' in out


FULLY_CONVOLUTIONAL = '''
class NetConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)     # 14x14
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)    # 7x7
        self.conv3 = nn.Conv2d(16, 10, 7)                        # 1x1: the class scores

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return F.log_softmax(self.conv3(x).flatten(1), dim=1)
'''


def test_a_fully_convolutional_netconv_is_accepted_and_uses_the_fast_layout(checkout):
    text = COURSE_STYLE[:COURSE_STYLE.index('class NetConv')] + FULLY_CONVOLUTIONAL
    checkout(text=text)
    net = nets.make_net('conv')
    images = torch.randn(3, 1, 28, 28)
    assert nets.check_contract(net, 'conv', images) == []
    assert nets.runs_channels_last(net, images)          # flatten(1) works in either layout
    assert parameter_counts(net).splitlines()[-1] == 'total: 80 + 1168 + 7850 = 9098'


def test_a_netconv_with_one_conv_layer_gets_a_note(checkout):
    checkout(edits=[('x = F.relu(self.bn2(F.max_pool2d(self.conv2(x), 2)))',
                     'x = F.relu(self.bn2(F.max_pool2d(self.conv2b(x), 2)))'),
                    ('self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)',
                     'self.conv2b = nn.Sequential(nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1))')])
    assert nets.check_contract(nets.make_net('conv'), 'conv', torch.randn(3, 1, 28, 28)) == []
    checkout(edits=[('        x = F.relu(self.bn2(F.max_pool2d(self.conv2(x), 2)))\n', ''),
                    ('self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)', ''),
                    ('nn.Linear(32 * 7 * 7, 128', 'nn.Linear(16 * 14 * 14, 128')])
    lines = nets.check_contract(nets.make_net('conv'), 'conv', torch.randn(3, 1, 28, 28))
    assert len(lines) == 1 and lines[0].startswith('note: ') and '1 convolutional layer' \
        in lines[0]


@pytest.mark.slow
def test_the_real_process_prints_one_line_and_the_debug_frames(tmp_path):
    """A fresh checkout run as a user runs it; NNLAB_DEBUG=1 adds the student's frames."""
    for name in ('kuzu_main.py',):
        (tmp_path / name).write_text((ROOT / name).read_text())
    try:
        os.symlink(ROOT / 'nnlab', tmp_path / 'nnlab', target_is_directory=True)
    except OSError:                     # Windows without the right to make links
        shutil.copytree(ROOT / 'nnlab', tmp_path / 'nnlab')
    text = ORIGINAL.replace('self.fc(x.flatten(1))', 'self.fc(x.view(64, -1))')
    (tmp_path / 'kuzu.py').write_text(text)
    from conftest import kmnist_root
    command = [sys.executable, 'kuzu_main.py', '--net', 'lin', '--data', str(kmnist_root()),
               '--plot_dir', 'plot', '--epochs', '1', '--train_count', '64']
    env = dict(os.environ, NNLAB_DEBUG='1')
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith('error: ')]
    assert len(errors) == 1 and 'Traceback' not in done.stderr
    wanted = line_of(text, 'view(64, -1)')
    assert errors[0].startswith(f'error: in kuzu.py, line {wanted}, NetLin.forward: ')
    frames = done.stderr.splitlines()[done.stderr.splitlines().index(errors[0]) + 1:]
    assert frames and all(f.startswith('  kuzu.py, line ') for f in frames), done.stderr


def test_our_own_errors_keep_the_bug_message(checkout, capsys, tmp_path, monkeypatch):
    checkout()
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))    # where the traceback is kept

    def main(argv):
        nets.make_net('lin')                 # the student's code ran fine
        parameter_counts(None)               # then a bug of ours

    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, [])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and 'a bug in the toolkit' in err and 'kuzu.py' not in err
