"""Typed files: each format the toolkit writes is a dataclass, checked field by field on
reading, so a reader never meets a surprise in the middle of its work.

    @dataclass(kw_only=True)
    class Thing(Document, format='nnlab-thing-2', older=('nnlab-thing-1',)):
        name: str
        values: list[float]

    save(path, thing)               # JSON, atomically, with its format
    thing = load(path, Thing)       # or FormatError(reason): never a traceback

Field types: bool, int, float (an int is taken too), str, X | None, list[X],
tuple[X, ...], dict[str, X], another dataclass, and `Any` (kept as it is). A dataclass
may define `problem(self) -> str | None` for what spans fields (a matrix's shape), and
`REQUIRED` (field names a file must hold even where the class has a default). Keys a
reader does not know are ignored; a missing field without a default, a value of the
wrong type, text that is not valid Unicode, a foreign format or another version is a
FormatError whose reason names the key.

Formats carry their version at the end of their name (`nnlab-kuzu-run-2`). A file of an
older version than the reader's loads if the class knows how (`upgrade`), else its
reason says to run the script again; a newer one says to update the toolkit.
Standard library only.
"""
import dataclasses
import functools
import json
import math
import os
import re
import stat
import types
import typing
from typing import Any, ClassVar

from nnlab.files import atomic_write_text

MAX_JSON_BYTES = 64 * 2**20      # a run record of a 1000-seed sweep is well under 1 MB
MAX_DEPTH = 64                   # nesting deeper than any of our formats


class FormatError(Exception):
    """A file or value that is not what its format says: `str(err)` is the reason."""


@dataclasses.dataclass(kw_only=True)
class Document:
    """A top-level file: its format name and version travel in the `format` key. A
    subclass names its format, and the older formats it can read (`upgrade`), as class
    keywords."""
    FORMAT: ClassVar[str] = ''
    OLDER: ClassVar[tuple] = ()
    AGAIN: ClassVar[str] = 'make it again with this version'   # for a file too old to read
    format: str = ''

    def __init_subclass__(cls, format=None, older=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if format is not None:
            cls.FORMAT = format
        if older is not None:
            cls.OLDER = tuple(older)

    def __post_init__(self):
        if not self.format:
            self.format = self.FORMAT

    @classmethod
    def upgrade(cls, data, found):
        """A dict of this version from `data` of older format `found` (one of OLDER), or
        None (the reader then says to make the file again)."""
        return None


# --- checking values against types ---------------------------------------------------------

def _name(kind):
    if kind is type(None):
        return 'null'
    if dataclasses.is_dataclass(kind):
        return 'an object'
    origin = typing.get_origin(kind)
    if origin in (list, tuple):
        return 'a list'
    if origin is dict:
        return 'an object'
    return {bool: 'true or false', int: 'a whole number', float: 'a number',
            str: 'text'}.get(kind, getattr(kind, '__name__', str(kind)))


def _shown(value):
    if isinstance(value, (list, dict)):
        return 'a list' if isinstance(value, list) else 'an object'
    return json.dumps(value, ensure_ascii=True)[:40]


_SCALARS = {bool: bool, int: int, float: (int, float), str: str}     # the JSON values each takes


@functools.cache
def _hints(cls):
    return typing.get_type_hints(cls)


def convert(kind, value, where='', depth=0):
    """`value` (parsed JSON) as type `kind`; FormatError naming `where` if it is not one."""
    if depth > MAX_DEPTH:
        raise FormatError(f"{where or 'the file'} is nested too deeply")
    if kind is Any:
        return value
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return convert(option, value, where, depth)
            except FormatError as err:
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        raise FormatError(f"{where} is {_shown(value)}, expected "
                          f"{' or '.join(_name(o) for o in options)}")
    if dataclasses.is_dataclass(kind):
        return from_dict(kind, value, where, depth + 1)
    if origin is list or origin is tuple:
        if not isinstance(value, list):
            raise FormatError(f"{where} is {_shown(value)}, expected a list")
        (item,) = typing.get_args(kind)[:1] or (Any,)
        items = [convert(item, v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise FormatError(f"{where} is {_shown(value)}, expected an object")
        _, item = typing.get_args(kind)
        return {_text(k, where): convert(item, v, f"{where}.{k}", depth + 1)
                for k, v in value.items()}
    if kind not in _SCALARS:
        raise TypeError(f"no schema for {kind!r}")      # a bug in a format definition
    # A JSON true is a bool, and a bool is an int in Python: only a bool field takes it.
    if not isinstance(value, _SCALARS[kind]) or isinstance(value, bool) != (kind is bool):
        raise FormatError(f"{where} is {_shown(value)}, expected {_name(kind)}")
    if kind is float:
        value = float(value)
        if not math.isfinite(value):
            raise FormatError(f"{where} is {value}, expected a finite number")
    return _text(value, where) if kind is str else value


def _text(value, where):
    """Text that can be written anywhere: a lone surrogate (JSON allows one) cannot."""
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        raise FormatError(f"{where} holds text that is not valid Unicode")
    return value


def from_dict(cls, data, where='', depth=0):
    """An instance of dataclass `cls` from a parsed JSON object, every field checked."""
    if not isinstance(data, dict):
        raise FormatError(f"{where or 'the file'} is {_shown(data)}, expected an object")
    hints = _hints(cls)
    required = getattr(cls, 'REQUIRED', ())     # fields a file must name, defaults or not
    values = {}
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        key = f"{where}.{field.name}" if where else field.name
        if field.name not in data:
            if field.name in required or (field.default is dataclasses.MISSING and
                                          field.default_factory is dataclasses.MISSING):
                raise FormatError(f"{key} is missing")
            continue
        values[field.name] = convert(hints[field.name], data[field.name], key, depth)
    try:
        item = cls(**values)
    except (TypeError, ValueError) as err:
        raise FormatError(f"{where or 'the file'}: {err}")
    problem = item.problem() if hasattr(item, 'problem') else None
    if problem:
        raise FormatError(f"{where + ': ' if where else ''}{problem}")
    return item


def to_dict(value):
    """A dataclass (or what it holds) as plain JSON data: NaN and infinities become null,
    numpy and torch numbers plain numbers."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): to_dict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_dict(v) for v in value]
    if hasattr(value, 'item') and callable(value.item):      # numpy / torch scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):      # e.g. undecodable bytes of a path in the command line
        return value.encode('utf-8', 'backslashreplace').decode('utf-8')
    return value


# --- versions ------------------------------------------------------------------------------

_VERSIONED = re.compile(r'(.+)-(\d+)$')


def _split_format(name):
    match = _VERSIONED.fullmatch(name) if isinstance(name, str) else None
    return (match.group(1), int(match.group(2))) if match else (name, None)


def document(cls, data):
    """A Document of class `cls` from parsed JSON: its format checked, then every field."""
    if not isinstance(data, dict):
        raise FormatError(f"it holds {_shown(data)}, not a JSON object")
    found = data.get('format')
    if found == cls.FORMAT:
        return from_dict(cls, data)
    upgraded = cls.upgrade(data, found) if found in cls.OLDER else None
    if upgraded is not None:
        return from_dict(cls, dict(upgraded, format=cls.FORMAT))
    if found not in cls.OLDER:
        family, version = _split_format(cls.FORMAT)
        their_family, theirs = _split_format(found)
        if not isinstance(found, str):
            raise FormatError(f"it is not a {family} file (no format name)")
        if their_family != family or theirs is None:
            raise FormatError(f"it is a {_text(found, 'format')[:60]!r} file, not a "
                              f"{family} file")
        if theirs > version:
            raise FormatError(f"written by a newer version of the toolkit (format "
                              f"{found}; this one reads {cls.FORMAT}); update the toolkit")
    raise FormatError(f"written by an earlier version of the toolkit (format {found}); "
                      f"{cls.AGAIN}")


# --- files ---------------------------------------------------------------------------------

def read_bytes(path, limit):
    """The bytes of a regular file of at most `limit` bytes; FormatError otherwise (a FIFO,
    a device or a folder is refused before it is read, so nothing blocks or runs on)."""
    flags = os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_BINARY', 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FormatError("the file does not exist")
    except OSError as err:
        raise FormatError(f"cannot open it ({err.strerror or err})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FormatError("it is not a regular file")
        if info.st_size > limit:
            raise FormatError(f"it is larger than {limit // 2**20} MiB "
                              f"({info.st_size / 2**20:.0f} MiB)")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FormatError(f"it is larger than {limit // 2**20} MiB")
        return b''.join(chunks)
    except OSError as err:
        raise FormatError(f"cannot read it ({err.strerror or err})")
    finally:
        os.close(fd)


def parse_json(raw):
    """Parsed JSON from bytes; FormatError for what is not UTF-8 JSON."""
    try:
        return json.loads(raw.decode('utf-8-sig'))
    except UnicodeDecodeError:
        raise FormatError("it is not UTF-8 text")
    except RecursionError:
        raise FormatError("it is nested too deeply")
    except ValueError as err:
        raise FormatError(f"it is not valid JSON ({str(err)[:80]})")


def load(path, cls, limit=MAX_JSON_BYTES):
    """The Document of class `cls` in the JSON file `path`; FormatError(reason)."""
    return document(cls, parse_json(read_bytes(path, limit)))


def dumps(item):
    return json.dumps(to_dict(item), indent=1, allow_nan=False, ensure_ascii=False) + '\n'


def save(path, item):
    """Write a Document (or any dataclass) as JSON, atomically; returns the path."""
    return atomic_write_text(path, dumps(item))
