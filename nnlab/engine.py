"""Which engine trains the student's model: the compiled kernel or PyTorch autograd.

The compiled kernels (nnlab/perceptron/kernels.py, nnlab/recurrent/kernels.py) are
hand-written copies of the maths of the shipped `check.py` MLP and `seq_models.py` models.
They may train a student's file only while it computes what they compute:

1. Fingerprint: the model class's source as Python sees it (its syntax tree, without
   comments, docstrings or layout), the methods `__init__` and `forward` reach through
   `self.`, its base classes in the file and every module-level name they use. Equal to
   the shipped file's (SHIPPED below): the kernel trains, and no torch is imported.
2. Probe (a changed fingerprint): the student's model against the kernel's forward pass
   and gradient on fixed random weights, in float64, to 1e-9 (perceptron/autograd.py,
   recurrent/autograd.py). Equal: the kernel trains, and the run says so. Different: the
   student's module trains with PyTorch autograd in float64, and the run says so.

`--engine compiled|torch` forces either path (docs/your-code.md, "Which engine trains
your model"). Standard library only: seq_train.py decides before torch loads.
"""
import ast
import contextlib
import copy
import hashlib
import importlib.util
import os
from dataclasses import dataclass

ENGINES = ('auto', 'compiled', 'torch')
# How many times longer PyTorch autograd takes than the compiled kernel, per epoch of
# check.py's 9 points and per anb2n example of seq_train.py (measured on 2 busy cores:
# 3 us against 4.8 ms, 13 us against 7.7 ms; docs/your-code.md).
SLOWER = {'check': 1500, 'seq_models': 500}
TOLERANCE = 1e-9              # the probe's largest difference counted as equal

MODEL_METHODS = ('__init__', 'forward')   # what defines a model's maths and its start
INIT_METHODS = ('__init__',)              # what defines only its initial weights

# The fingerprints of the shipped files' models, (file, class) -> (model, init). When you
# change the shipped check.py or seq_models.py on purpose, print the new ones with
#     python3 -m nnlab.engine
# and paste them here (tests/test_engine_fingerprint.py fails until you do).
SHIPPED = {
    ('check.py', 'MLP'): ('20d9a8480fdc69c4', 'e84258bc93326069'),
    ('seq_models.py', 'SRN_model'): ('8e719e87a47ca98d', '3ff644e29366c8e0'),
    ('seq_models.py', 'LSTM_model'): ('d691c2aedba23cdf', '011d429b5e9d1ca7'),
    ('seq_models.py', 'GRU_model'): ('6c5b86ab4daf7bcf', '3d172d35b55d82f2'),
}


@contextlib.contextmanager
def one_torch_thread():
    """torch on one thread while the block runs: autograd on tensors of a few numbers is
    all overhead, and a second thread only waits (ten times slower on a busy machine)."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def source_path(module):
    """The file `import module` would load (no code of it runs), or None."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.origin else None


def _strip_docstrings(node):
    """A copy of the syntax tree without the docstrings of modules, classes and functions."""
    node = copy.deepcopy(node)
    for item in ast.walk(node):
        body = getattr(item, 'body', None)
        if isinstance(item, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            item.body = body[1:] or [ast.Pass()]
    return node


def _names_used(node):
    """Bare names a piece of code reads (module-level names it may depend on)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _self_attributes(node):
    """Attributes the code reads from `self` (methods it may call)."""
    return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == 'self'}


def _module_definitions(tree):
    """name -> the module-level statements that define it, in file order."""
    defined = {}
    for statement in tree.body:
        names = []
        if isinstance(statement, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [statement.name]
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            names = [(a.asname or a.name).split('.')[0] for a in statement.names]
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) \
                else [statement.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        for name in names:
            defined.setdefault(name, []).append(statement)
    return defined


def _class_chain(defined, name):
    """The class `name` and its base classes defined in the same file, most derived first."""
    chain, todo = [], [name]
    while todo:
        for statement in defined.get(todo.pop(0), []):
            if isinstance(statement, ast.ClassDef) and statement not in chain:
                chain.append(statement)
                todo += [b.id for b in statement.bases if isinstance(b, ast.Name)]
    return chain


def _class_part(chain, start):
    """The pieces of the classes in `chain` that the methods `start` reach through
    `self.`: those methods (every definition along the chain), the methods they call, and
    the class-level assignments (attributes such as `kind`)."""
    wanted, pieces, seen = set(start), [], set()
    changed = True
    while changed:
        changed = False
        for cls in chain:
            for item in cls.body:
                name = getattr(item, 'name', None)
                is_method = isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                if id(item) in seen or (is_method and name not in wanted) \
                        or not (is_method or isinstance(item, (ast.Assign, ast.AnnAssign))):
                    continue
                seen.add(id(item))
                pieces.append((cls.name, item))
                before = len(wanted)
                wanted |= _self_attributes(item)
                changed = changed or len(wanted) != before
    return pieces


def fingerprint_of_tree(tree, class_name, start=MODEL_METHODS):
    """The fingerprint (16 hex digits) of class `class_name` of a parsed module, or None
    when the module has no such class."""
    defined = _module_definitions(tree)
    chain = _class_chain(defined, class_name)
    if not chain:
        return None
    pieces = _class_part(chain, start)
    text = [f"{cls.name}({', '.join(ast.unparse(b) for b in cls.bases)})" for cls in chain]
    text += [f"{owner}: {ast.dump(_strip_docstrings(item))}" for owner, item in pieces]
    todo = set().union(*(_names_used(item) for _, item in pieces),
                       *(_names_used(b) for cls in chain for b in cls.bases))
    done = {cls.name for cls in chain}
    statements = []
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        for statement in defined.get(name, []):
            if statement not in statements:
                statements.append(statement)
                todo |= _names_used(statement) - done
    order = {id(s): i for i, s in enumerate(tree.body)}
    statements.sort(key=lambda s: order[id(s)])
    text += [ast.dump(_strip_docstrings(s)) for s in statements]
    return hashlib.sha256('\n'.join(text).encode()).hexdigest()[:16]


def fingerprints(path, class_name):
    """(model, init) fingerprints of `class_name` in the Python file `path`; (None, None)
    when the file is unreadable (missing, or not Python: importing it says why) or has no
    such class."""
    try:
        with open(path, 'rb') as handle:
            tree = ast.parse(handle.read(), filename=os.fspath(path))
    except (OSError, SyntaxError, ValueError):
        return None, None
    return (fingerprint_of_tree(tree, class_name, MODEL_METHODS),
            fingerprint_of_tree(tree, class_name, INIT_METHODS))


@dataclass
class Choice:
    """Which engine trains a run, and why.

    engine: 'compiled' or 'torch'. fingerprint: the model's (None: not readable).
    shipped: the fingerprint is the shipped one. same_init: the initial weights are drawn
    as the shipped file draws them (so nnlab may draw them without torch). note: the line
    the run prints (None for the shipped file on the default engine)."""
    engine: str
    fingerprint: str | None
    shipped: bool
    same_init: bool = True
    note: str | None = None


def shipped_fingerprints(filename, class_name):
    return SHIPPED.get((filename, class_name), (None, None))


def first_look(module, class_name):
    """(path, model fingerprint, init fingerprint, shipped, same init) of a student's file,
    without running any of it."""
    path = source_path(module)
    model, init = fingerprints(path, class_name) if path else (None, None)
    want_model, want_init = shipped_fingerprints(f'{module}.py', class_name)
    return (path, model, init, model is not None and model == want_model,
            init is not None and init == want_init)


def differences_text(differences):
    """None when every (what, largest difference) is within TOLERANCE, else the ones that
    are not, in words (the three largest)."""
    over = sorted(((d, what) for what, d in differences
                   if not (d <= TOLERANCE)), key=lambda pair: -pair[0]
                  if pair[0] == pair[0] else float('-inf'))
    if not over:
        return None
    return ', '.join(f"{what} off by {d:.2g}" for d, what in over[:3]) + \
        (f" (and {len(over) - 3} more)" if len(over) > 3 else '')


def slower_text(factor):
    return f"expect it to take about {factor} times as long as the compiled kernel"


def choose(requested, module, class_name, probe, uses_init=True):
    """The engine for `requested` ('auto', 'compiled', 'torch') and the student's class
    `class_name` of `module` ('check', 'seq_models'). `probe()` (it may import torch) is
    None when the student's model computes the kernel's loss and gradient, else what
    differed; it runs only when the fingerprint is not the shipped one. `uses_init`: the
    run draws its initial weights as the class does (seq_models), rather than loading its
    own (check.py).

    A file that computes otherwise with --engine compiled is one error line."""
    from nnlab.cli import UserError
    path, model, init, shipped, same_init = first_look(module, class_name)
    what = f"{os.path.basename(path) if path else module + '.py'}'s {class_name}"
    same_init = same_init or not uses_init
    autograd = (f"PyTorch autograd trains it in float64, as written "
                f"({slower_text(SLOWER[module])})")
    if requested == 'torch':
        return Choice('torch', model, shipped, same_init,
                      f"--engine torch: {what} is {'the shipped one' if shipped else 'edited'}; "
                      f"{autograd}")
    if shipped:
        return Choice('compiled', model, True, True)
    differs = probe()
    own_init = '' if same_init else \
        "; its initial weights are drawn by its own code (PyTorch, from the seed)"
    if differs is None:
        return Choice('compiled', model, False, same_init,
                      f"{what} is not the shipped one but computes the same (probe: loss "
                      f"and gradient within {TOLERANCE:g} of the compiled kernel's): the "
                      f"compiled kernel trains it{own_init}")
    if requested == 'compiled':
        raise UserError(f"--engine compiled: {what} computes otherwise than the compiled "
                        f"kernel (probe: {differs}); use --engine auto or torch")
    return Choice('torch', model, False, same_init,
                  f"{what} is not the shipped one and computes otherwise than the compiled "
                  f"kernel (probe: {differs}): {autograd}{own_init}")


def main():
    """Print the SHIPPED table of the files as they are now (python3 -m nnlab.engine)."""
    print('SHIPPED = {')
    for (filename, class_name) in SHIPPED:
        _, model, init, _, _ = first_look(filename[:-3], class_name)
        print(f"    ({filename!r}, {class_name!r}): ({model!r}, {init!r}),")
    print('}')


if __name__ == '__main__':
    main()
