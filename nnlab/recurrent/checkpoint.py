"""Checkpoint files of the sequence models: naming, atomic saving, validated loading.

A file `{out_path}/{lang}_{model}{hid}_{thousands}.pth` (e.g. `net/anb2n_srn2_100.pth`)
holds the weights and their metadata (nnlab/formats/seq_checkpoint.py), which says what
was trained, so a damaged or mismatched file is refused with a clear message. The
embedded Reber grammar is named `reber_embed_...`; run i of `--restarts` adds `_r{i}`
before the thousands. A checkpoint between thousands has a decimal name, e.g.
`anb2n_srn2_23.456.pth`.

The names need no torch (training names its files without loading it); saving and
loading import it when called.
"""
import glob
import os
import re

from nnlab.cli import UserError
from nnlab.files import atomic_torch_save
from nnlab.formats import schema, seq_checkpoint


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


CHECKPOINT_NAME = re.compile(r'(.+)_(\d+(?:\.\d+)?)\.pth')


def split_name(basename):
    """'anb2n_srn2_r3_20.pth' -> ('anb2n_srn2_r3', '20'); None for another file name."""
    match = CHECKPOINT_NAME.fullmatch(basename)
    return match.groups() if match else None


def is_checkpoint_name(basename, name):
    """A checkpoint of run name `name`: {name}_{thousands}.pth or {name}_r{i}_{thousands}.pth."""
    parts = split_name(basename)
    return parts is not None and re.fullmatch(re.escape(name) + r'(_r\d+)?', parts[0]) is not None


def save_weights(path, kind, num_symbols, hid, row, meta):
    """save() of the model a flat weight vector (parameters.Layout) describes; `meta` is a
    CheckpointMeta."""
    from nnlab.recurrent.autograd import build
    from nnlab.recurrent.parameters import Layout
    model = Layout(kind, num_symbols, hid).to_model(row, build(kind, num_symbols, hid,
                                                               num_symbols))
    return save(path, model, meta)


def save(path, model, meta):
    import torch
    state = {k: v.detach().to(torch.float32).clone() for k, v in model.state_dict().items()}
    atomic_torch_save(seq_checkpoint.to_blob(state, meta), path)
    return path


def _stems_in(folder, prefix):
    """{run name: [thousands]} of the checkpoints in `folder` whose names start with prefix."""
    found = {}
    for path in glob.glob(os.path.join(glob.escape(folder or '.'), prefix + '*.pth')):
        parts = split_name(os.path.basename(path))
        if parts and os.path.isfile(path):
            found.setdefault(parts[0], []).append(parts[1])
    return {name: sorted(epochs, key=float) for name, epochs in found.items()}


def missing_message(folder, lang, model, hid, thousands, embed=False, run=None):
    """Why there is no checkpoint for these flags, and what exists instead."""
    path = checkpoint_path(folder, lang, model, hid, thousands, embed, run)
    name = stem(lang, model, hid, embed, run)
    epochs = _stems_in(folder, name + '_').get(name)
    if epochs:
        return (f"no checkpoint {path}; epochs saved for {name}: {', '.join(epochs)} "
                f"(pick one with --epoch)")
    if run is None:
        runs = sorted(int(n.rsplit('_r', 1)[1]) for n in _stems_in(folder, name + '_r')
                      if re.fullmatch(re.escape(name) + r'_r\d+', n))
        if runs:
            return (f"no checkpoint {path}; that training ran several runs (--restarts) and "
                    f"stopped before it saved the best under the plain name: pick one with "
                    f"--run i (runs saved: {', '.join(map(str, runs))})")
    language = f"{lang}{'_embed' if embed else ''}_"
    others = sorted(n for n in _stems_in(folder, language)
                    if re.fullmatch(r'[a-z]+\d+', n[len(language):]))     # model and size
    if others:
        return (f"no checkpoint {path}; for {lang} {folder or '.'} holds "
                f"{', '.join(n + '_*' for n in others)}: pass the --model and --hid of one "
                f"of those (and --epoch), or train {model} {hid} with seq_train.py")
    return (f"no checkpoint {path} and none for {lang} in {folder or '.'}; train it first "
            f"with seq_train.py (same --lang --model --hid)")


def load(path, lang=None, model=None, hid=None, embed=None):
    """(model, CheckpointMeta) of a checkpoint; refuse a missing, damaged or mismatched
    file (one of another language, model or size than those given) with one line."""
    import torch

    from nnlab.recurrent.autograd import build
    path = os.fspath(path)
    if os.path.isdir(path):
        raise UserError(f"{path} is a folder, not a checkpoint; move it out of the way or "
                        f"pick another --epoch")
    if not os.path.isfile(path):
        raise UserError(f"no checkpoint {path}; check the path")
    unreadable = (f"{path} is not a readable seq_train.py checkpoint (corrupt or another "
                  f"kind of file); retrain or pick another --epoch")
    try:
        blob = torch.load(path, map_location='cpu', weights_only=True)
    except Exception:       # torch raises many kinds for a damaged or foreign file
        raise UserError(unreadable)
    try:
        state, meta = seq_checkpoint.from_blob(blob)
    except schema.FormatError as err:
        raise UserError(f"{path}: {err}; retrain it or pick another --epoch")
    have = meta.network
    wanted = dict(lang=lang, model=model, hid=hid, embed=embed)
    wrong = {k: v for k, v in wanted.items() if v is not None and getattr(have, k) != v}
    if wrong:
        held = ', '.join(f"{k}={getattr(have, k)!r}" for k in wrong)
        asked = ', '.join(f"{k}={v!r}" for k, v in wrong.items())
        raise UserError(f"{path} holds {held}, not {asked}; pass the matching flags "
                        f"or train that model first")
    net = build(have.model, meta.num_input, have.hid, meta.num_out)
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise UserError(f"{path} does not fit a {have.model} with {have.hid} hidden "
                        f"units ({str(err).splitlines()[0] if str(err) else err}); retrain it")
    if not all(torch.isfinite(p).all() for p in net.parameters()):
        raise UserError(f"{path} holds weights that are not finite numbers (the training "
                        f"diverged); retrain with a lower --lr")
    net.eval()
    return net, meta


def kernel_trained(meta):
    """Whether a checkpoint's weights were trained with the compiled kernels' maths (by
    the kernel, or by autograd on the shipped model): what generalise.py's numpy copy and
    the explore page's JavaScript compute. A file older than fingerprints: the kernel."""
    from nnlab import engine
    from nnlab.recurrent.languages import MODEL_CLASSES
    shipped = engine.shipped_fingerprints('seq_models.py',
                                          MODEL_CLASSES[meta.network.model])[0]
    return (meta.engine or 'compiled') == 'compiled' or meta.fingerprint == shipped


def same_model(meta, path):
    """Whether the weights of a loaded checkpoint may be analysed with the current
    seq_models.py, and how: True where its model computes what the compiled kernels (and
    generalise.py's numpy copy) compute, False where only the student's model itself does
    (autograd). The model must be the one that trained the weights: the same fingerprint,
    or both computing the kernels' maths (a `note:` line says so); else one error line.
    A checkpoint older than fingerprints (meta.engine None) was trained by the kernel."""
    from nnlab import engine
    from nnlab.recurrent.languages import MODEL_CLASSES, make_language
    network = meta.network
    class_name = MODEL_CLASSES[network.model]
    _, current, _, shipped, _ = engine.first_look('seq_models', class_name)
    if current is not None and current == meta.fingerprint:
        return kernel_trained(meta)
    if (meta.engine or 'compiled') == 'compiled':
        if shipped:
            return True
        from nnlab.recurrent import autograd
        from nnlab.recurrent.parameters import Layout
        lang = make_language(network.lang, network.embed, network.length)
        differs = autograd.probe(network.model, Layout(network.model, meta.num_input,
                                                       network.hid), lang)
        if differs is None:
            print(f"note: seq_models.py's {class_name} is not the shipped one but computes "
                  f"the same (probe: within {engine.TOLERANCE:g} of the compiled kernel), "
                  f"as the one that trained {path}", flush=True)
            return True
        why = (f"{path} was trained by the compiled kernel (the shipped {class_name}); the "
               f"{class_name} in seq_models.py now computes otherwise (probe: {differs})")
    else:
        why = (f"{path} was trained by PyTorch autograd with another {class_name} "
               f"(fingerprint {meta.fingerprint}) than the one in seq_models.py now "
               f"({current})")
    raise UserError(f"{why}: analysing its weights with this model would describe a network "
                    f"that was never trained; put seq_models.py back as it was, or train "
                    f"again with seq_train.py")


def load_epoch(out_path, network, thousands, run=None):
    """(model, meta, path) of the checkpoint checkpoint_path() names for `network` (a
    languages.Network), checked against it."""
    path = checkpoint_path(out_path, network.lang, network.model, network.hid, thousands,
                           network.embed, run)
    if not os.path.exists(path):
        raise UserError(missing_message(out_path, network.lang, network.model, network.hid,
                                        thousands, network.embed, run))
    return (*load(path, network.lang, network.model, network.hid, network.embed), path)
