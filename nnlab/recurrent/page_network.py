"""Networks trained on the explore page (nnlab/formats/seq_page_network.py) as
seq_plot.py reads them: checked against the language and model they name, turned into a
seq_models.py model and the metadata a checkpoint carries."""
import os

from nnlab.cli import UserError
from nnlab.formats import schema
from nnlab.formats.seq_checkpoint import CheckpointMeta
from nnlab.formats.seq_page_network import MAX_BYTES, PageNetwork
from nnlab.recurrent import languages

FLAGS = ('lang', 'embed', 'length', 'model', 'hid')      # what the file decides


def read(path):
    """The PageNetwork in `path`, its weights checked against the network it names;
    UserError (one line) otherwise."""
    from nnlab.recurrent.parameters import Layout
    try:
        doc = schema.load(path, PageNetwork, MAX_BYTES)
    except schema.FormatError as err:
        raise UserError(f"{path} is not a network saved by the explore page ({err}); save it "
                        f"again with the page's Save button")
    network = doc.network
    symbols = languages.make_language(network.lang, network.embed,
                                      network.length).num_symbols
    if doc.num_symbols != symbols:
        raise UserError(f"{path}: num_symbols is {doc.num_symbols}, but {network.lang} has "
                        f"{symbols} symbols; save it again with the page's Save button")
    size = Layout(network.model, symbols, network.hid).size
    if len(doc.weights) != size:
        raise UserError(f"{path} holds {len(doc.weights)} weights; a {network.model} with "
                        f"{network.hid} hidden units on {network.lang} has {size}")
    return doc


def check_flags(path, doc, given):
    """Refuse flags (name -> value given on the command line) that disagree with the file."""
    wrong = {k: v for k, v in given.items()
             if k in FLAGS and v is not None and getattr(doc.network, k) != v}
    if wrong:
        held = ', '.join(f"{k}={getattr(doc.network, k)!r}" for k in wrong)
        asked = ', '.join(f"--{k} {v}" for k, v in wrong.items())
        raise UserError(f"{path} holds {held}, not {asked}: the file decides the language, "
                        f"model and size; leave those flags out")


def meta_of(doc):
    """What a checkpoint would say of this training (CheckpointMeta). The page computes
    the compiled kernel's maths (the shipped seq_models.py's), so its file is checked
    against the current seq_models.py as a checkpoint the kernel trained is."""
    t = doc.training
    return CheckpointMeta(network=doc.network, num_input=doc.num_symbols, engine='compiled',
                          num_out=doc.num_symbols, step=t.examples,
                          thousands=t.examples / 1000, seed=t.seed, metric=t.metric,
                          threshold=t.threshold, checks=list(t.checks), success=t.success)


def load(path):
    """(model, CheckpointMeta, path) of a page network, like checkpoint.load_epoch."""
    from nnlab.recurrent.parameters import Layout
    from seq_models import make_model
    doc = read(path)
    network = doc.network
    model = make_model(network.model, doc.num_symbols, network.hid, doc.num_symbols)
    Layout(network.model, doc.num_symbols, network.hid).to_model(doc.weights, model)
    model.eval()
    return model, meta_of(doc), path


def stem(path):
    """The pictures' name: the file's name without .json."""
    name = os.path.basename(os.fspath(path))
    return name[:-len('.json')] if name.lower().endswith('.json') else name


def verdict_line(meta):
    """The verdict on the file's checks, by the language's criterion, as seq_train.py
    prints it (the page shows the same line)."""
    from nnlab.recurrent.trainer import VERDICT_CHECKS
    network = meta.network
    spec = languages.get_spec(network.lang)
    recent = meta.checks[-VERDICT_CHECKS:]
    met = bool(recent) and None not in recent and spec.meets(recent)
    name = f"{network.lang}{' (embedded)' if network.embed else ''}"
    return f"{name}: {spec.criterion_text(len(recent))}: {'yes' if met else 'no'}"
