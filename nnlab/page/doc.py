"""The report as a list of plain blocks, rendered twice: to HTML and to Markdown.

The part builders (part1.py, part2.py, part3.py, sweeps.py) only say *what* the report
holds; html.py and markdown.py say how it looks. Building one list and rendering it twice
is what keeps report/index.html and report/report.md the same content.

Text in blocks is plain text, exactly as read from the files; the renderers escape it.
"""
import os
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Code:
    """Inline code (a command, a file name) inside a paragraph."""
    text: str


@dataclass(frozen=True)
class Link:
    """A link to a local file (a log, a CSV), relative to the report folder when rendered."""
    text: str
    path: str


@dataclass(frozen=True)
class Heading:
    level: int          # 1 page title, 2 part, 3 question, 4 sub-part of a question
    text: str
    anchor: str = ''    # an id to link to from the contents


@dataclass(frozen=True)
class Para:
    parts: tuple        # str, Code or Link, joined as they are
    kind: str = ''      # '' plain, 'note' (nothing there yet: what to run), 'warn',
                        # 'meta' (when and from what the page was made)


@dataclass(frozen=True)
class Pre:
    """Console text kept as printed (state tables, weights): monospace, never reflowed.
    `folded`: a long table the page shows closed under its caption (one click opens it)."""
    text: str
    caption: str = ''
    folded: bool = False


@dataclass(frozen=True)
class Table:
    header: tuple
    rows: tuple         # tuples of cell strings
    caption: str = ''
    row_header: bool = False    # the first column names the row (a matrix's true class)


@dataclass(frozen=True)
class Figure:
    path: str           # the picture file, as found on disk
    caption: str
    small: bool = False     # one of a series (a unit each): two to a row on the page


@dataclass(frozen=True)
class Contents:
    """The table of contents: (anchor, text, level) of the headings after it."""
    entries: tuple


def para(*parts, kind=''):
    return Para(tuple(parts), kind)


def warn(*parts):
    return Para(tuple(parts), 'warn')


def contents(blocks):
    """A Contents block for the anchored headings of level 2 and 3 in `blocks`."""
    return Contents(tuple((b.anchor, b.text, b.level) for b in blocks
                          if isinstance(b, Heading) and b.anchor and b.level in (2, 3)))


def inline(parts, code, link, text):
    """A paragraph's parts rendered by the format's three functions (code, link, text)."""
    return ''.join(code(part.text) if isinstance(part, Code) else
                   link(part) if isinstance(part, Link) else text(str(part))
                   for part in parts)


def href(path, out_dir):
    """The address of a local file from the report folder, as both formats link it."""
    return quote(os.path.relpath(path, out_dir).replace(os.sep, '/'))
