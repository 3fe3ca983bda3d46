"""KMNIST in memory: read the four IDX files once, normalise once, slice batches later.

The files live in torchvision's layout, `<root>/KMNIST/raw/`. When they are missing we
let torchvision download them (it knows the mirrors and checksums); everything after
that is a plain read of the IDX format, checked well enough to name a broken file.

Pixels become exactly what `ToTensor()` then `Normalize((0.5,), (0.5,))` would give, in
the same float32 operations (divide by 255, subtract 0.5, divide by 0.5), so results
match the course's per-sample pipeline bit for bit.
"""
import contextlib
import io
import math
import os
import socket
import sys

import numpy as np
import torch

from nnlab import ROOT
from nnlab.cli import UserError
from nnlab.kmnist.facts import CLASSES

FILES = {'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
         'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049   # IDX: unsigned bytes, 3 resp. 1 dimensions
SIDE = 28
# Course machines have no internet but a read-only copy of KMNIST beside the checkout.
SHARED_COPY = ROOT.parent / 'shared' / 'data'


def default_root():
    """The data folder when --data is not given: $KUZU_DATA, else ./data."""
    return os.environ.get('KUZU_DATA') or './data'


def raw_folder(root):
    return os.path.join(os.fspath(root), 'KMNIST', 'raw')


def missing_files(root):
    folder = raw_folder(root)
    return [name for pair in FILES.values() for name in pair
            if not os.path.isfile(os.path.join(folder, name))]


def _missing_folders(folder):
    """`folder` and every ancestor of it that does not exist yet, deepest first."""
    missing = []
    folder = os.path.abspath(folder)
    while not os.path.exists(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return missing


def _network_reason(urls, timeout=5):
    """None if one of the download addresses answers (through any proxy the environment
    names, as the download itself will), else why not. Nothing is written."""
    import urllib.error
    import urllib.request
    reason = 'no download address'
    for url in urls:
        try:
            urllib.request.urlopen(urllib.request.Request(url, method='HEAD'),
                                   timeout=timeout).close()
            return None
        except urllib.error.HTTPError:
            return None                     # the server answered: the network works
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = f"cannot reach {url}: {getattr(err, 'reason', err)}"
    return reason


def ensure_downloaded(root):
    """Download KMNIST into `root` if any file is missing; one clear line if we cannot.

    The network is tried before anything is printed or created, so an offline machine
    gets no 'downloading' line and no empty folders.
    """
    missing = missing_files(root)
    if not missing:
        return
    folder = raw_folder(root)
    where = (f"put the four files {', '.join(n for p in FILES.values() for n in p)} "
             f"into {folder} or pass --data DIR (the folder that holds KMNIST/raw)")
    import torchvision
    offline = _network_reason(torchvision.datasets.KMNIST.mirrors)
    if offline:
        raise UserError(f"KMNIST files missing ({', '.join(missing)}) and no network to "
                        f"download them ({offline}); {where}")
    print(f"KMNIST not found in {folder}; downloading (about 20 MB) ...", flush=True)
    created = _missing_folders(folder)
    chatter = io.StringIO()
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(60)   # a dead network should fail, not hang
    try:
        # torchvision prints a line per attempt and mirror; keep our one line instead.
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            for train in (True, False):
                torchvision.datasets.KMNIST(os.fspath(root), train=train, download=True)
    except Exception as err:
        for d in created:   # deepest first: leave no empty folders behind
            with contextlib.suppress(OSError):
                os.rmdir(d)
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise UserError(f"KMNIST files missing ({', '.join(missing)}) and the download "
                        f"failed ({reason}); {where}")
    finally:
        socket.setdefaulttimeout(old_timeout)
    if missing_files(root):
        raise UserError(f"KMNIST download left files missing "
                        f"({', '.join(missing_files(root))}); {where}")


def _read_idx(path, magic, dims):
    """The payload of an IDX file as a uint8 array of shape `dims`-dimensional."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as err:
        raise UserError(f"cannot read {path} ({err.strerror}); check the file")
    header = 4 + 4 * dims
    fix = "replace it with the official file (delete it to download again)"
    if len(raw) < header:
        raise UserError(f"{path} is truncated ({len(raw)} bytes, no full header); {fix}")
    found_magic = int.from_bytes(raw[:4], 'big')
    if found_magic != magic:
        raise UserError(f"{path} is not an IDX file of this kind (magic number "
                        f"{found_magic}, expected {magic}); {fix}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims))
    expected = header + math.prod(shape)          # Python ints: no overflow
    if len(raw) != expected:
        kind = 'truncated' if len(raw) < expected else 'too long'
        raise UserError(f"{path} is {kind}: {len(raw)} bytes, its header "
                        f"{'x'.join(map(str, shape))} needs {expected}; {fix}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def normalise(pixels):
    """uint8 images (N, 28, 28) -> float32 (N, 1, 28, 28), as ToTensor + Normalize(0.5, 0.5)."""
    x = torch.from_numpy(np.array(pixels, dtype=np.uint8)).unsqueeze(1)
    return x.to(torch.float32).div(255).sub(0.5).div(0.5)


def load_split(root, split):
    """Images (N, 1, 28, 28) float32 normalised, and labels (N,) int64, for 'train'/'test'."""
    image_path, label_path = (os.path.join(raw_folder(root), name) for name in FILES[split])
    pixels = _read_idx(image_path, IMAGE_MAGIC, 3)
    labels = _read_idx(label_path, LABEL_MAGIC, 1)
    if pixels.shape[1:] != (SIDE, SIDE):
        raise UserError(f"{image_path} holds {pixels.shape[1]}x{pixels.shape[2]} images, "
                        f"expected 28x28; replace it with the official file")
    if len(labels) != len(pixels):
        raise UserError(f"{label_path} has {len(labels)} labels but {image_path} has "
                        f"{len(pixels)} images; use matching official files")
    if len(labels) == 0 or labels.max() >= len(CLASSES):
        raise UserError(f"{label_path} has no labels or labels outside 0..9; "
                        f"replace it with the official file")
    return normalise(pixels), torch.from_numpy(labels.astype(np.int64))


def usable_root(root, fallback=False):
    """The data folder to read, downloading first when files are missing.

    With `fallback` (the user did not name a folder) an offline machine that has the
    course's shared copy beside the checkout uses that copy instead of failing.
    """
    try:
        ensure_downloaded(root)
    except UserError:
        if not fallback or missing_files(SHARED_COPY):
            raise
        print(f"note: no network; using the shared KMNIST copy in {SHARED_COPY} "
              f"(pass --data DIR to choose)", file=sys.stderr, flush=True)
        return SHARED_COPY
    return root


def load_kmnist(root, fallback=False):
    """(train_x, train_y, test_x, test_y) from usable_root(root, fallback)."""
    root = usable_root(root, fallback)
    return (*load_split(root, 'train'), *load_split(root, 'test'))


def sample_images(pixels, labels):
    """The first image of each class (10, 28, 28), e.g. for labelling a plot."""
    first = [int(torch.nonzero(labels == c)[0]) if (labels == c).any() else None
             for c in range(len(CLASSES))]
    return [None if i is None else pixels[i, 0] for i in first]
