"""The report as one self-contained HTML page: pictures embedded as data URIs, the style
inline, no script, no font or anything else fetched (a Content-Security-Policy says so,
and a browser then refuses, and reports, anything that would reach out).

Printing: each part starts on a new page, headings stay with what follows them, and a
figure, table or console block is never split across pages; pictures are at most 19 cm
high (8.5 cm two to a row for a series), so two fit on an A4 or Letter page, each whole
with its caption.
"""
import base64
import os
import re
from itertools import groupby

from nnlab.markup import html_text
from nnlab.page.doc import Contents, Figure, Heading, Para, Pre, Table, href, inline
from nnlab.page.sources import shown

MIME = {'.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png',
        '.gif': 'image/gif', '.svg': 'image/svg+xml'}
MAX_EMBED = 8_000_000           # bytes: a larger picture is named, not embedded
NUMBER = re.compile(r'^[-+]?[\d,]*\.?\d+%?$')

STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1b1f24; max-width: 64rem; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.75rem; margin: 0.5rem 0 0.3rem; }
h2 { font-size: 1.4rem; margin-top: 2.8rem; padding-bottom: 0.2rem;
     border-bottom: 2px solid #c9d1d9; }
h3 { font-size: 1.15rem; margin-top: 2.2rem; }
h4 { font-size: 1rem; margin: 1.4rem 0 0.4rem; color: #3d444d; }
p { margin: 0.55rem 0; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
code { font-size: 0.86em; background: #eff1f3; padding: 0.05em 0.3em; border-radius: 3px;
       overflow-wrap: anywhere; }
a { color: #0b5cad; }
.meta { color: #57606a; }
p.note, p.warn { padding: 0.45rem 0.8rem; border-radius: 3px; }
p.note { background: #eef5ff; border-left: 4px solid #3d7fd6; }
p.warn { background: #fff6e0; border-left: 4px solid #d99a00; }
nav.toc { background: #f6f8fa; border: 1px solid #d8dee4; padding: 0.4rem 1.2rem;
          margin: 1rem 0; }
nav.toc ul { margin: 0.2rem 0; padding-left: 1.2rem; }
nav.toc li.sub { margin-left: 1.2rem; font-size: 0.93em; }
.cap { font-size: 0.9em; color: #57606a; margin: 0 0 0.2rem; }
.text { margin: 0.8rem 0; }
pre { font-size: 0.8rem; line-height: 1.35; background: #f6f8fa; border: 1px solid #d8dee4;
      padding: 0.55rem 0.8rem; margin: 0; overflow: auto; max-height: 36rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.86rem; }
caption { caption-side: top; text-align: left; font-size: 0.9rem; color: #57606a;
          padding-bottom: 0.2rem; }
th, td { border: 1px solid #d0d7de; padding: 0.12rem 0.45rem; }
th { background: #eff1f3; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.diag { background: #dbe9fb; font-weight: 600; }
figure.picture { margin: 1.2rem 0; text-align: center; }
figure.picture img { max-width: 100%; height: auto; max-height: 85vh; }
figure.picture figcaption { font-size: 0.9rem; color: #57606a; margin-top: 0.2rem; }
div.series { display: flex; flex-wrap: wrap; justify-content: space-around; }
figure.small { width: 48%; margin: 0.6rem 0; }
@media print {
  @page { margin: 1.5cm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { break-before: page; page-break-before: always; }
  h1, h2, h3, h4, .cap { break-after: avoid; page-break-after: avoid; }
  figure, table, .text, p.note, p.warn { break-inside: avoid; page-break-inside: avoid; }
  figure.picture img { max-height: 12cm; }
  figure.small img { max-height: 8.5cm; }
  pre { font-size: 7.5pt; white-space: pre-wrap; overflow: visible; max-height: none; }
  nav.toc { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

# Everything the page may use comes from the page itself.
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def render(blocks, out_dir, title, read_picture):
    """The page; `read_picture(path)` gives a picture's bytes or None (Sources.read_bytes:
    only files inside the page's folders, bounded in size)."""
    body = '\n'.join(_grouped(blocks, out_dir, read_picture))
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{html_text(title)}</title>\n<style>{STYLE}</style>\n</head>\n'
            f'<body>\n{body}\n</body>\n</html>\n')


def _grouped(blocks, out_dir, read_picture):
    """Each block's HTML; a run of small figures goes into one row-wrapping <div>."""
    renderers = {Heading: _heading, Pre: _pre, Table: _table, Contents: _contents,
                 Para: lambda para: _para(para, out_dir),
                 Figure: lambda figure: _figure(figure, read_picture)}
    for small, run in groupby(blocks, lambda block: isinstance(block, Figure) and block.small):
        rendered = [renderers[type(block)](block) for block in run]
        if small:
            rendered = ['<div class="series">' + ''.join(rendered) + '</div>']
        yield from rendered


def _heading(block):
    anchor = f' id="{html_text(block.anchor)}"' if block.anchor else ''
    return f'<h{block.level}{anchor}>{html_text(block.text)}</h{block.level}>'


def _para(block, out_dir):
    kind = f' class="{block.kind}"' if block.kind else ''
    parts = inline(block.parts, lambda text: f'<code>{html_text(text)}</code>',
                   lambda link: f'<a href="{html_text(href(link.path, out_dir))}">'
                                f'{html_text(link.text)}</a>',
                   html_text)
    return f'<p{kind}>{parts}</p>'


def _pre(block):
    if block.folded:
        return (f'<details class="text"><summary class="cap">'
                f'{html_text(block.caption or "Show")}</summary>'
                f'<pre>{html_text(block.text)}</pre></details>')
    caption = f'<p class="cap">{html_text(block.caption)}</p>' if block.caption else ''
    return f'<div class="text">{caption}<pre>{html_text(block.text)}</pre></div>'


def _table(table):
    square = table.row_header and len(table.header) == len(table.rows) + 1
    lines = ['<table>']
    if table.caption:
        lines.append(f'<caption>{html_text(table.caption)}</caption>')
    lines.append('<thead><tr>' + ''.join(f'<th scope="col">{html_text(h)}</th>'
                                         for h in table.header) + '</tr></thead><tbody>')
    for r, row in enumerate(table.rows):
        cells = []
        for c, cell in enumerate(row):
            if c == 0 and table.row_header:
                cells.append(f'<th scope="row">{html_text(cell)}</th>')
                continue
            classes = ['num'] if NUMBER.match(cell.strip()) else []
            if square and c == r + 1:          # the diagonal: the correct answers
                classes.append('diag')
            cls = f' class="{" ".join(classes)}"' if classes else ''
            cells.append(f'<td{cls}>{html_text(cell)}</td>')
        lines.append('<tr>' + ''.join(cells) + '</tr>')
    lines.append('</tbody></table>')
    return '\n'.join(lines)


# What each picture type's file starts with: a file named .jpg that is not a JPEG is not
# embedded (the browser would show a broken picture).
MAGIC = {'image/jpeg': (b'\xff\xd8\xff',), 'image/png': (b'\x89PNG\r\n\x1a\n',),
         'image/gif': (b'GIF87a', b'GIF89a')}


def data_uri(path, data):
    """The picture as a data: URI, or None (unreadable, too large, not what its name says)."""
    mime = MIME.get(os.path.splitext(path)[1].lower())
    if mime is None or data is None or len(data) > MAX_EMBED:
        return None
    if mime in MAGIC and not data.startswith(MAGIC[mime]):
        return None
    return f'data:{mime};base64,{base64.b64encode(data).decode("ascii")}'


def _figure(figure, read_picture):
    uri = data_uri(figure.path, read_picture(figure.path))
    name = html_text(shown(figure.path).replace(os.sep, '/'))
    if uri is None:
        return (f'<p class="note">Picture not embedded (unreadable, not a picture of its '
                f'type, or larger than {MAX_EMBED // 1_000_000} MB): <code>{name}</code></p>')
    caption = html_text(figure.caption)
    kind = 'picture small' if figure.small else 'picture'
    return (f'<figure class="{kind}"><img src="{uri}" alt="{caption}">'
            f'<figcaption>{caption} (<code>{name}</code>)</figcaption></figure>')


def _contents(block):
    items = ''.join(('<li class="sub">' if level > 2 else '<li>')
                    + f'<a href="#{html_text(anchor)}">{html_text(text)}</a></li>'
                    for anchor, text, level in block.entries)
    return f'<nav class="toc"><strong>Contents</strong><ul>{items}</ul></nav>'
