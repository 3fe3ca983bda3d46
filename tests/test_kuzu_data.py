"""KMNIST loading: the same numbers as the course's pipeline, clear errors for bad files."""
import shutil
from pathlib import Path

import pytest
import torch
from conftest import assert_one_line_error

from nnlab import ROOT
from nnlab.kmnist.data import FILES, load_split

# Make any download attempt fail at once, with or without internet, so the tests never
# fetch 20 MB and never depend on the network.
NO_NETWORK = {'http_proxy': 'http://127.0.0.1:9', 'https_proxy': 'http://127.0.0.1:9',
              'HTTP_PROXY': 'http://127.0.0.1:9', 'HTTPS_PROXY': 'http://127.0.0.1:9'}


@pytest.mark.parametrize('split', ['train', 'test'])
def test_tensors_equal_torchvision_totensor_normalize(data_dir, split):
    from torchvision import datasets, transforms
    course = datasets.KMNIST(str(data_dir), train=split == 'train', download=False,
                             transform=transforms.Compose([transforms.ToTensor(),
                                                           transforms.Normalize((0.5,), (0.5,))]))
    images, labels = load_split(data_dir, split)
    assert images.shape == (len(course), 1, 28, 28) and images.dtype == torch.float32
    assert labels.dtype == torch.int64
    for i in [0, 1, 2, 999, len(course) // 2, len(course) - 1]:
        image, label = course[i]
        assert torch.equal(images[i], image), f'image {i} differs from ToTensor+Normalize'
        assert int(labels[i]) == label


def test_test_set_has_1000_images_per_class(data_dir):
    _, labels = load_split(data_dir, 'test')
    assert torch.bincount(labels).tolist() == [1000] * 10


def copy_data(data_dir, tmp_path):
    root = tmp_path / 'data'
    shutil.copytree(data_dir / 'KMNIST' / 'raw', root / 'KMNIST' / 'raw')
    return root


@pytest.mark.slow
def test_truncated_image_file_is_named(run, data_dir, tmp_path):
    root = copy_data(data_dir, tmp_path)
    images = root / 'KMNIST' / 'raw' / 'train-images-idx3-ubyte'
    images.write_bytes(images.read_bytes()[:100_000])
    done = run('kuzu_main.py', '--data', root, '--plot_dir', tmp_path / 'plot', '--epochs', 1)
    assert_one_line_error(done, 'train-images-idx3-ubyte', 'truncated')
    assert not (tmp_path / 'plot' / 'kuzu_full_confusion.csv').exists()


@pytest.mark.slow
def test_label_file_of_wrong_kind_is_named(run, data_dir, tmp_path):
    root = copy_data(data_dir, tmp_path)
    raw = root / 'KMNIST' / 'raw'
    # An image file where the labels belong: the magic number gives it away.
    shutil.copy(raw / 't10k-images-idx3-ubyte', raw / 't10k-labels-idx1-ubyte')
    done = run('kuzu_main.py', '--data', root, '--plot_dir', tmp_path / 'plot', '--epochs', 1)
    assert_one_line_error(done, 't10k-labels-idx1-ubyte')


@pytest.mark.slow
def test_missing_data_says_where_the_files_go(run, tmp_path):
    root = tmp_path / 'nowhere'
    done = run('kuzu_main.py', '--data', root, '--plot_dir', tmp_path / 'plot', env=NO_NETWORK)
    assert_one_line_error(done, str(root / 'KMNIST' / 'raw'), '--data',
                          *[name for pair in FILES.values() for name in pair])
    assert not root.exists(), 'a failed download should leave no empty folders behind'


def checkout_beside_shared_data(data_dir, tmp_path):
    """A copy of the scripts in tmp_path/checkout with the course's layout beside it:
    tmp_path/shared/data/KMNIST/raw (links to the files, copies where links fail)."""
    checkout = tmp_path / 'checkout'
    skip = shutil.ignore_patterns('__pycache__', '*.pyc')
    shutil.copytree(ROOT / 'nnlab', checkout / 'nnlab', ignore=skip)
    for script in ROOT.glob('*.py'):
        shutil.copy(script, checkout / script.name)
    raw = tmp_path / 'shared' / 'data' / 'KMNIST' / 'raw'
    raw.mkdir(parents=True)
    for source in (Path(data_dir) / 'KMNIST' / 'raw').iterdir():
        try:
            (raw / source.name).symlink_to(source)
        except OSError:                     # no symlinks (Windows without the right)
            shutil.copy(source, raw / source.name)
    return checkout


@pytest.mark.slow
def test_default_folder_offline_uses_the_shared_copy(run, data_dir, tmp_path):
    """The README's first command, `python3 kuzu_main.py --net conv`, run where ./data is
    empty and there is no network: it trains on the course's copy beside the checkout
    (built here: a checkout with shared/data beside it)."""
    checkout = checkout_beside_shared_data(data_dir, tmp_path)
    work = tmp_path / 'work'
    work.mkdir()
    done = run(checkout / 'kuzu_main.py', '--net', 'lin', '--epochs', 1, '--train_count', 500,
               cwd=work, env=dict(NO_NETWORK, KUZU_DATA=''))
    assert done.returncode == 0, done.stderr
    shared = tmp_path / 'shared' / 'data'
    assert f'using the shared KMNIST copy in {shared}' in done.stderr
    assert 'Test set: Average loss:' in done.stdout
    assert (work / 'plot' / 'kuzu_lin_confusion.csv').is_file()
    assert not (work / 'data' / 'KMNIST' / 'raw' / 'train-images-idx3-ubyte').exists()
