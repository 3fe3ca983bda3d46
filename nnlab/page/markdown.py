"""The report as Markdown (report/report.md): the same blocks as the page, with pictures
and files linked by their path relative to the report folder (`../plot/...`) instead of
embedded, for people who write their report in Markdown or LaTeX (pandoc reads it)."""
import os
from urllib.parse import quote

from nnlab.markup import html_text, markdown_block_fence, markdown_code, markdown_text
from nnlab.page.doc import Contents, Figure, Heading, Para, Pre, Table, inline

LABELS = {'note': '**Note:** ', 'warn': '**Warning:** ', 'meta': ''}
escape, code = markdown_text, markdown_code      # every text of ours goes through these


def render(blocks, out_dir):
    return '\n\n'.join(_block(b, out_dir) for b in blocks).rstrip('\n') + '\n'


def _target(path, out_dir):
    return quote(os.path.relpath(path, out_dir).replace(os.sep, '/'))


def _inline(parts, out_dir):
    return inline(parts, code,
                  lambda link: f'[{escape(link.text)}]({_target(link.path, out_dir)})', escape)


def _heading(block, out_dir):
    anchor = f'<a id="{html_text(block.anchor)}"></a>\n\n' if block.anchor else ''
    return f'{anchor}{"#" * block.level} {escape(block.text)}'


def _para(block, out_dir):
    text = LABELS.get(block.kind, '') + _inline(block.parts, out_dir)
    return f'> {text}' if block.kind in ('note', 'warn') else text


def _pre(block, out_dir):
    fence = markdown_block_fence(block.text)
    caption = f'*{escape(block.caption)}*\n\n' if block.caption else ''
    return f'{caption}{fence}text\n{block.text}\n{fence}'


def _figure(block, out_dir):
    target = _target(block.path, out_dir)
    return f'![{escape(block.caption)}]({target})\n\n*{escape(block.caption)}* ({code(target)})'


def _contents(block, out_dir):
    return '\n'.join(f'{"  " if level > 2 else ""}- [{escape(text)}](#{quote(anchor)})'
                     for anchor, text, level in block.entries)


def _block(block, out_dir):
    render = {Heading: _heading, Para: _para, Pre: _pre, Figure: _figure,
              Contents: _contents, Table: lambda table, _: _table(table)}
    return render[type(block)](block, out_dir)


def _cell(text):
    return escape(text) or ' '


def _table(table):
    lines = [f'*{escape(table.caption)}*', ''] if table.caption else []
    lines.append('| ' + ' | '.join(_cell(h) for h in table.header) + ' |')
    lines.append('|' + '|'.join('---' for _ in table.header) + '|')
    for row in table.rows:
        first, rest = row[0], row[1:]
        first = f'**{_cell(first)}**' if table.row_header else _cell(first)
        lines.append('| ' + ' | '.join([first, *map(_cell, rest)]) + ' |')
    return '\n'.join(lines)
