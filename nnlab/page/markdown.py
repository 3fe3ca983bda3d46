"""The report as Markdown (report/report.md): the same blocks as the page, with pictures
and files linked by their path relative to the report folder (`../plot/...`) instead of
embedded, for people who write their report in Markdown or LaTeX (pandoc reads it)."""
from urllib.parse import quote

from nnlab.markup import (
    html_text,
    markdown_block_fence,
    markdown_block_start,
    markdown_code,
    markdown_inline,
    markdown_text,
)
from nnlab.page.doc import Contents, Figure, Heading, Para, Pre, Table, href, inline

LABELS = {'note': '**Note:** ', 'warn': '**Warning:** ', 'meta': ''}
escape, code = markdown_text, markdown_code      # every text of ours goes through these


def render(blocks, out_dir):
    renderers = {Heading: _heading, Pre: _pre, Table: _table, Contents: _contents,
                 Para: lambda para: _para(para, out_dir),
                 Figure: lambda figure: _figure(figure, out_dir)}
    return '\n\n'.join(renderers[type(b)](b) for b in blocks).rstrip('\n') + '\n'


def _heading(block):
    anchor = f'<a id="{html_text(block.anchor)}"></a>\n\n' if block.anchor else ''
    return f'{anchor}{"#" * block.level} {escape(block.text)}'


def _para(block, out_dir):
    # the parts escaped as inside a line (their spaces kept), the start as a block's
    text = markdown_block_start(inline(
        block.parts, code, lambda link: f'[{escape(link.text)}]({href(link.path, out_dir)})',
        markdown_inline))
    text = LABELS.get(block.kind, '') + text
    return f'> {text}' if block.kind in ('note', 'warn') else text


def _pre(block):
    fence = markdown_block_fence(block.text)
    caption = f'*{escape(block.caption)}*\n\n' if block.caption else ''
    return f'{caption}{fence}text\n{block.text}\n{fence}'


def _figure(block, out_dir):
    target = href(block.path, out_dir)
    return f'![{escape(block.caption)}]({target})\n\n*{escape(block.caption)}* ({code(target)})'


def _contents(block):
    return '\n'.join(f'{"  " if level > 2 else ""}- [{escape(text)}](#{quote(anchor)})'
                     for anchor, text, level in block.entries)


def _cell(text):
    return escape(text) or ' '


def _table(table):
    lines = [f'*{escape(table.caption)}*', ''] if table.caption else []
    lines.append('| ' + ' | '.join(_cell(h) for h in table.header) + ' |')
    lines.append('|' + '|'.join('---' for _ in table.header) + '|')
    for first, *rest in table.rows:
        first = f'**{_cell(first)}**' if table.row_header else _cell(first)
        lines.append('| ' + ' | '.join([first, *map(_cell, rest)]) + ' |')
    return '\n'.join(lines)
