"""Text from files and command lines, made safe for the formats we write: one function per
format and use. Whatever a run record, a CSV row or a command line holds, the Markdown
(report/report.md, a sweep's summary.md) and the HTML page show it as plain text: no tag,
link, heading, table cell break or code span of its own survives.

Markdown (CommonMark with GitHub's tables): text is put on one line (a line break, let
alone a blank line, could end a paragraph, a table row or a code span), then every
character Markdown reads as markup inline is backslash-escaped, and a block marker at the
start (`-`, `+`, `=`, `1. `) is escaped too. Code spans take a fence longer than any run of
backticks inside. Picture labels (matplotlib): one line, no maths. HTML: the standard
library's escape, quotes included (also attributes).
"""
import html
import re

# Inline markup anywhere in a line: emphasis, code, links and images, raw HTML and
# entities, table cells, strike-through, and '#' (a heading's closing sequence).
MARKDOWN_INLINE = re.compile(r'([\\`*_\[\]<>|&!~#])')
# Block markers that only count at the start of a block: lists, setext underlines, quotes.
MARKDOWN_START = re.compile(r'^(\s*)([-+=]|\d{1,9}(?=[.)](\s|$)))')
LINE_BREAKS = re.compile(r'\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]')


def one_line(text):
    """Every kind of line break becomes a space."""
    return LINE_BREAKS.sub(' ', str(text))


def markdown_text(text):
    """Plain text that Markdown shows as it is, on one line."""
    return markdown_block_start(markdown_inline(text))


def markdown_inline(text):
    """Plain text that Markdown shows as it is inside a line (after the block's start)."""
    return MARKDOWN_INLINE.sub(r'\\\1', one_line(text))


def markdown_block_start(text):
    """Escaped text made safe at the start of a block: a list, quote or underline marker
    escaped, no leading spaces."""
    match = MARKDOWN_START.match(text)
    if match:
        lead, marker = match.group(1), match.group(2)
        if marker[0].isdigit():        # '1.' or '1)': escape the punctuation after it
            end = match.end()
            text = f'{lead}{marker}\\{text[end:]}'
        else:
            text = f'{lead}\\{text[len(lead):]}'
    return text.lstrip(' \t')         # four leading spaces would start a code block


def markdown_code(text):
    """An inline code span showing `text` on one line, whatever backticks it holds."""
    text = one_line(text)
    fence = '`' * (max((len(run) for run in re.findall('`+', text)), default=0) + 1)
    pad = ' ' if text.startswith('`') or text.endswith('`') or not text.strip() else ''
    return f'{fence}{pad}{text}{pad}{fence}'


def markdown_block_fence(text):
    """The fence for a fenced code block holding `text` (longer than any run inside)."""
    return '`' * max(3, max((len(r) for r in re.findall('`+', text)), default=0) + 1)


def plot_text(text):
    """Text for a matplotlib label: one line, and '$' shown as it is (not maths)."""
    return one_line(text).replace('$', r'\$')


def html_text(text):
    """Text or an attribute's value in HTML, quotes escaped."""
    return html.escape(str(text), quote=True)
