"""Checkpoint files of the sequence models: naming, atomic saving, validated loading.

A file `{out_path}/{lang}_{model}{hid}_{thousands}.pth` (e.g. `net/anb2n_srn2_100.pth`)
holds {'format', 'state_dict', 'meta'}; meta says what was trained (lang, embed, length,
model, hid, num_input, num_out, step, thousands, seed, run, args, metric values), so a
mismatched file is refused with a clear message. The embedded Reber grammar is named
`reber_embed_...`; run i of `--restarts` adds `_r{i}` before the thousands. A Ctrl-C
checkpoint between thousands has a decimal name, e.g. `anb2n_srn2_23.456.pth`.
"""
import glob
import os
import re

import torch

from nnlab.cli import UserError
from nnlab.files import atomic_torch_save
from seq_models import make_model

FORMAT = 'kuzu-seq-1'


def stem(lang, model, hid, embed=False, run=None):
    """The name shared by a run's checkpoints and plots, e.g. 'anb2n_srn2'."""
    name = f"{lang}{'_embed' if embed else ''}_{model}{hid}"
    return name if run is None else f"{name}_r{run}"


def format_thousands(thousands):
    """100 -> '100'; 23.456 -> '23.456' (steps are whole, so 3 decimals at most)."""
    steps = round(float(thousands) * 1000)
    return str(steps // 1000) if steps % 1000 == 0 else f"{steps / 1000:.3f}".rstrip('0')


def checkpoint_path(out_path, lang, model, hid, thousands, embed=False, run=None):
    name = f"{stem(lang, model, hid, embed, run)}_{format_thousands(thousands)}.pth"
    return os.path.join(out_path, name)


def available_epochs(out_path, lang, model, hid, embed=False, run=None):
    """The thousands (as strings, ascending) of the checkpoints that exist for a run name."""
    return _epochs_of(out_path, stem(lang, model, hid, embed, run))


def _epochs_of(folder, name):
    pattern = re.compile(re.escape(name) + r'_(\d+(?:\.\d+)?)\.pth$')
    found = []
    for path in glob.glob(os.path.join(glob.escape(folder or '.'), name + '_*.pth')):
        match = pattern.match(os.path.basename(path))
        if match:
            found.append(match.group(1))
    return sorted(found, key=float)


def is_checkpoint_name(basename, name):
    """A checkpoint of run name `name`: {name}_{thousands}.pth or {name}_r{i}_{thousands}.pth."""
    return re.fullmatch(re.escape(name) + r'(_r\d+)?_\d+(\.\d+)?\.pth', basename) is not None


def save(path, model, meta):
    state = {k: v.detach().to(torch.float32).clone() for k, v in model.state_dict().items()}
    atomic_torch_save({'format': FORMAT, 'state_dict': state, 'meta': dict(meta)}, path)
    return path


def _missing_message(path):
    folder, base = os.path.split(path)
    match = re.match(r'(.+)_\d+(?:\.\d+)?\.pth$', base)
    epochs = _epochs_of(folder, match.group(1)) if match else []
    if epochs:
        return (f"no checkpoint {path}; epochs saved for {match.group(1)}: "
                f"{', '.join(epochs)} (pick one with --epoch)")
    return (f"no checkpoint {path} and none for that language/model/size in "
            f"{folder or '.'}; train it first with seq_train.py (same --lang --model --hid)")


def load(path, lang=None, model=None, hid=None, embed=None):
    """Load a checkpoint into its model; refuse a missing, corrupt or mismatched file."""
    if not os.path.isfile(path):
        raise UserError(_missing_message(path))
    try:
        blob = torch.load(path, map_location='cpu', weights_only=True)
        meta, state = blob['meta'], blob['state_dict']
        if blob.get('format') != FORMAT:
            raise ValueError('format')
    except Exception:
        raise UserError(f"{path} is not a readable seq_train.py checkpoint (corrupt or "
                        f"another kind of file); retrain or pick another --epoch")
    wanted = dict(lang=lang, model=model, hid=hid, embed=embed)
    wrong = {k: v for k, v in wanted.items() if v is not None and meta.get(k) != v}
    if wrong:
        have = ', '.join(f"{k}={meta.get(k)!r}" for k in wrong)
        asked = ', '.join(f"{k}={v!r}" for k, v in wrong.items())
        raise UserError(f"{path} holds {have}, not {asked}; pass the matching flags "
                        f"or train that model first")
    net = make_model(meta['model'], meta['num_input'], meta['hid'], meta['num_out'])
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError) as err:
        raise UserError(f"{path} does not fit a {meta['model']} with {meta['hid']} hidden "
                        f"units ({str(err).splitlines()[0]}); retrain it")
    net.eval()
    return net, meta


def load_epoch(out_path, lang, model, hid, thousands, embed=False, run=None):
    """load() of the file checkpoint_path() names, checked against the same flags."""
    path = checkpoint_path(out_path, lang, model, hid, thousands, embed, run)
    return load(path, lang=lang, model=model, hid=hid, embed=embed)
