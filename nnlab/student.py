"""The student's files: the one place that imports kuzu.py, check.py and seq_models.py and
turns their mistakes into one `error:` line that is theirs, not the toolkit's.

The course's files are code students write and change; an exception raised inside them
is reported with their file, line and class/method and what the toolkit expected, as a
`StudentError` (a `UserError`: one line, exit 2, never "a bug in the toolkit").

API (all cheap to import: only the standard library at import time):

    kuzu = student.load('kuzu', need=('NetLin', 'NetFull', 'NetConv'))
        Import the student's file (`'kuzu'`, `'check'` or `'seq_models'`), cached like any
        import. A syntax error, a failing import or any exception at import time, and a
        name of `need` the file does not define, raise StudentError naming the file and
        line. Use it instead of `import kuzu` / `from check import MLP` everywhere.

    with student.blame('kuzu', 'NetConv.forward', 'on a batch of 3 images'):
        out = net(images)
        Any exception raised while the block runs whose traceback passes through the
        student's file becomes a StudentError: `in kuzu.py, line 52, NetConv.forward: <what
        happened> (<doing>)`. `what` (the class/method) may be None: it is then read from
        the innermost frame of the student's file. An exception that never passed through
        the student's file is ours and propagates unchanged, as do UserError, Interrupted,
        KeyboardInterrupt and out-of-memory errors. Shape errors inside a torch layer name
        the layer and the shapes: `layer fc (Linear) expects 800 inputs per image, the
        layer before gives 1568`.

    student.call('kuzu', 'NetFull.__init__', fn, *args, **kwargs)
        fn(*args, **kwargs) inside blame(...), for one-off calls.

    student.attribute(err) -> StudentError | None
        The same judgement for an exception caught elsewhere; nnlab/cli.py's run_cli uses
        it for exceptions nobody wrapped, so a student's mistake anywhere in a run is
        reported as theirs.

    student.path('kuzu') -> the file's path as shown to the user (relative to the current
        folder when inside it).

    student.accepts(fn, name) -> whether callable `fn` takes an argument `name` (or **kwargs).

`NNLAB_DEBUG=1` in the environment adds, below the error line, the frames of the student's
file that led to it (file, line, function and the source line), and nothing of ours.
"""
import contextlib
import importlib
import importlib.util
import inspect
import linecache
import os
import re
import sys
import traceback

from nnlab.cli import Interrupted, UserError, out_of_memory

FILES = {'kuzu': 'kuzu.py', 'check': 'check.py', 'seq_models': 'seq_models.py'}
DEBUG_VARIABLE = 'NNLAB_DEBUG'


class StudentError(UserError):
    """A mistake in the student's file: one line (str), plus `details`, the student's
    frames shown when NNLAB_DEBUG=1 (run_cli prints them below the line)."""

    def __init__(self, message, file=None, line=None, where=None, details=()):
        super().__init__(message)
        self.file, self.line, self.where = file, line, where
        self.details = list(details) if debugging() else []


def debugging():
    return os.environ.get(DEBUG_VARIABLE, '') not in ('', '0')


def _real(path):
    return os.path.normcase(os.path.realpath(path))


def _origin(name):
    """The real path of the student's file `name` (None if it cannot be found): the loaded
    module's, else where an import would find it."""
    module = sys.modules.get(name)
    found = getattr(module, '__file__', None)
    if found is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        found = getattr(spec, 'origin', None)
    return _real(found) if found and found.endswith('.py') else None


def path(name):
    """The student's file as the user knows it: relative to the current folder when inside
    it, else in full; the bare file name when it cannot be found."""
    real = _origin(name)
    if real is None:
        return FILES.get(name, name + '.py')
    try:
        shown = os.path.relpath(real)
    except ValueError:                     # another drive on Windows
        return real
    return real if shown.startswith('..') else shown


def _student_names():
    """{real path: module name} of the student's files."""
    return {real: name for name in FILES if (real := _origin(name))}


def _where(frame):
    """'NetConv.forward' for a method, the function name else, 'import' at module level."""
    code = frame.f_code
    if code.co_name == '<module>':
        return 'at import'
    owner = frame.f_locals.get('self')
    if owner is not None and not isinstance(owner, type):
        return f'{type(owner).__name__}.{code.co_name}'
    qualname = getattr(code, 'co_qualname', code.co_name)
    return qualname.replace('.<locals>', '')


def _debug_lines(frames, students):
    lines = []
    for frame, lineno in frames:
        name = students.get(_real(frame.f_code.co_filename))
        if name is None:
            continue
        source = linecache.getline(frame.f_code.co_filename, lineno).strip()
        lines.append(f'  {path(name)}, line {lineno}, in {_where(frame)}: {source}')
    return lines


def _first_line(err):
    text = str(err).strip().splitlines()
    return text[0] if text else ''


def _layer_problem(err, frames, student_frame):
    """For an error inside a torch layer called from the student's module: which layer
    (its attribute name in the student's net) and what it expected, or None."""
    torch = sys.modules.get('torch')
    if torch is None:
        return None
    nn = torch.nn
    library = _real(os.path.dirname(torch.__file__))
    layer, given = None, None
    for frame, _ in frames:                 # the innermost torch layer on the way down
        owner = frame.f_locals.get('self')
        if isinstance(owner, nn.Module) and \
                _real(frame.f_code.co_filename).startswith(library + os.sep):
            candidate = frame.f_locals.get('input')
            if isinstance(candidate, torch.Tensor):
                layer, given = owner, candidate
    if layer is None:
        return None
    root = student_frame.f_locals.get('self')
    label = type(layer).__name__
    if isinstance(root, nn.Module):
        for name, module in root.named_modules():
            if module is layer and name:
                label = f'{name} ({type(layer).__name__})'
                break
    shape = tuple(given.shape)
    if isinstance(layer, nn.Linear) and shape and shape[-1] != layer.in_features:
        return (f'layer {label} expects {layer.in_features} inputs per image, the layer '
                f'before gives {shape[-1]} (its output has shape {list(shape)}); make '
                f'in_features {shape[-1]} or change the layers before it')
    if isinstance(layer, nn.modules.conv._ConvNd):
        if len(shape) >= 2 and shape[-len(layer.kernel_size) - 1] != layer.in_channels:
            got = shape[-len(layer.kernel_size) - 1]
            return (f'layer {label} expects {layer.in_channels} input channels, the layer '
                    f'before gives {got} (its output has shape {list(shape)})')
        kernel = 'x'.join(map(str, layer.kernel_size))
        size = 'x'.join(map(str, shape[-len(layer.kernel_size):]))
        return (f'layer {label} with a {kernel} kernel gets {size} images (input shape '
                f'{list(shape)}): {_first_line(err)}')
    if isinstance(layer, nn.modules.batchnorm._BatchNorm) and len(shape) >= 2 \
            and shape[1] != layer.num_features:
        return (f'layer {label} expects {layer.num_features} channels, the layer before '
                f'gives {shape[1]} (its output has shape {list(shape)})')
    return f'layer {label} on input of shape {list(shape)}: {_first_line(err)}'


def _hint(err):
    """A short how-to-fix for messages every student meets."""
    text = str(err)
    found = re.match(r"shape '\[(-?\d+)", text)
    if found and found.group(1) != '-1':
        return ('the first size of a view/reshape is the batch size, which varies (the '
                'last batch is smaller): use x.view(x.size(0), -1) or x.flatten(1)')
    if found:                               # view(-1, N): N is not one image's size
        return 'the size after -1 must be the number of values one image has at that point'
    product = re.search(r'mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and '
                        r'(\d+)x(\d+)\)', text)
    if product:
        return (f'the input has {product.group(2)} values per row, the weight matrix '
                f'{product.group(3)} rows')
    if 'view size is not compatible' in text:
        return 'use x.reshape(x.size(0), -1) or x.flatten(1) instead of view'
    return None


def _describe(err, frames, students, what, doing):
    """The StudentError for `err`, or None when no frame lies in a student's file."""
    inner = None
    for index, (frame, lineno) in enumerate(frames):
        name = students.get(_real(frame.f_code.co_filename))
        if name is not None:
            inner = (index, frame, lineno, name)
    if inner is None:
        return None
    index, frame, lineno, name = inner
    where = what or _where(frame)
    problem = _layer_problem(err, frames[index + 1:], frame)
    if problem is None:
        problem = f'{type(err).__name__}: {_first_line(err)}'
        hint = _hint(err)
        if hint:
            problem += f'; {hint}'
    source = linecache.getline(frame.f_code.co_filename, lineno).strip()
    context = f' ({doing})' if doing else ''
    shown = f' [{source}]' if source and len(source) <= 80 else ''
    message = f'in {path(name)}, line {lineno}, {where}: {problem}{shown}{context}'
    return StudentError(message, path(name), lineno, where, _debug_lines(frames, students))


def _ours(err):
    """Exceptions that are never the student's to answer for."""
    return isinstance(err, (UserError, Interrupted, KeyboardInterrupt)) or out_of_memory(err)


def attribute(err, what=None, doing=None):
    """A StudentError when `err`'s traceback passes through a student's file, else None."""
    if _ours(err):
        return None
    if isinstance(err, SyntaxError):
        return _syntax_error(err)
    return _describe(err, list(traceback.walk_tb(err.__traceback__)), _student_names(), what,
                     doing)


def _syntax_error(err):
    """The StudentError of a SyntaxError in one of the student's files, else None."""
    name = _student_names().get(_real(err.filename) if err.filename else None)
    if name is None:
        return None
    kind = 'indentation error' if isinstance(err, IndentationError) else 'syntax error'
    source = (err.text or '').strip()
    shown = f' [{source}]' if source and len(source) <= 80 else ''
    return StudentError(f'in {path(name)}, line {err.lineno}: {kind}: {err.msg}{shown}',
                        path(name), err.lineno, None)


@contextlib.contextmanager
def blame(name, what=None, doing=None):
    """Run the block; an exception that passed through the student's file `name` (or
    another of the student's files) becomes a StudentError (see the module doc)."""
    try:
        yield
    except Exception as err:
        blamed = attribute(err, what, doing)
        if blamed is None:
            raise
        raise blamed from err


def call(name, what, fn, *args, **kwargs):
    with blame(name, what):
        return fn(*args, **kwargs)


def load(name, need=()):
    """The student's module `name` ('kuzu', 'check', 'seq_models'), imported once; every
    failure is one StudentError naming the file (see the module doc)."""
    module = sys.modules.get(name)
    if module is None:
        real = _origin(name)
        if real is None:
            raise StudentError(f'{FILES[name]} is not in the folder of the scripts '
                               f'({os.path.dirname(os.path.abspath(sys.argv[0] or "."))}); '
                               f'put your {FILES[name]} beside them')
        try:
            module = importlib.import_module(name)
        except SyntaxError as err:
            raise (_syntax_error(err) or _import_failure(err, name)) from err
        except Exception as err:
            if _ours(err):
                raise
            raise _import_failure(err, name) from err
    missing = [n for n in need if not hasattr(module, n)]
    if missing:
        raise StudentError(f'{path(name)} defines no {", ".join(missing)}; the toolkit '
                           f'needs {"it" if len(missing) == 1 else "them"} (see '
                           f'docs/your-code.md)', path(name))
    return module


def _import_failure(err, name):
    """An exception while importing the student's file, at the line of theirs it came from."""
    frames = list(traceback.walk_tb(err.__traceback__))
    students = _student_names()
    inner = None
    for frame, lineno in frames:
        if students.get(_real(frame.f_code.co_filename)) == name:
            inner = (frame, lineno)
    if isinstance(err, SyntaxError):       # in a module the student's file imports
        problem = f'importing it failed: {err.filename}, line {err.lineno}: {err.msg}'
    else:
        problem = f'{type(err).__name__}: {_first_line(err)}'
        if isinstance(err, ImportError) and err.name and err.name.split('.')[0] == 'nnlab':
            problem += ('; your file should import nothing of the toolkit (its helpers '
                        'live in nnlab/ and find your classes by name)')
    if inner is None:
        return StudentError(f'{path(name)} cannot be imported: {problem}', path(name))
    frame, lineno = inner
    source = linecache.getline(frame.f_code.co_filename, lineno).strip()
    shown = f' [{source}]' if source and len(source) <= 80 else ''
    where = _where(frame)
    where = 'at import' if where == 'at import' else f'{where} (at import)'
    return StudentError(f'in {path(name)}, line {lineno}, {where}: {problem}{shown}',
                        path(name), lineno, where, _debug_lines(frames, students))


def accepts(fn, argument):
    """Whether `fn` (a class or function) takes an argument called `argument`."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return argument in parameters or any(p.kind is p.VAR_KEYWORD
                                         for p in parameters.values())
