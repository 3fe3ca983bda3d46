"""The sweeps part of the page: what `sweep.py --out DIR` left in each folder
(results.csv, summary.md, its pictures), shown as it is. Kept small on purpose: the
sweep's own summary already says what it measured; the page only collects it."""
import glob
import os

from nnlab.formats import sweep_results
from nnlab.page.common import figures
from nnlab.page.doc import Code, Heading, Link, Pre, para
from nnlab.page.sources import shown
from nnlab.sweep.summary import SUMMARY

DEFAULT_TOP = 'sweeps'          # report.py looks here (and one level down) without --sweeps
PICTURES = ('*.png', '*.jpg', '*.jpeg', '*.svg')
MAX_PICTURES = 6


def default_dirs(top=DEFAULT_TOP):
    """`top` itself if it holds a sweep, and its subfolders that do."""
    candidates = [top] + sorted(glob.glob(os.path.join(glob.escape(top), '*', '')))
    return [os.path.normpath(d) for d in candidates
            if os.path.isfile(os.path.join(d, sweep_results.FILE))
            or os.path.isfile(os.path.join(d, SUMMARY))]


def build(sources, folders):
    if not folders:
        return []
    blocks = [Heading(2, 'Sweeps: runs over seeds and settings', 'sweeps')]
    for number, folder in enumerate(folders, 1):
        blocks.append(Heading(3, f'{number}. {shown(folder)}', f'sweep-{number}'))
        blocks += sweep_blocks(sources, folder)
    return blocks


def sweep_blocks(sources, folder):
    if not os.path.isdir(folder):
        return [para('No such folder: ', Code(shown(folder)), '.', kind='note')]
    blocks = []
    results = os.path.join(folder, sweep_results.FILE)
    text = sources.text(results)
    if text is None:
        blocks.append(para('No results.csv here (', Code('python3 sweep.py --out DIR -- ...'),
                           ' writes one).', kind='note'))
    else:
        count, header = sweep_results.count_rows(text)
        shown_header = ', '.join(header[:12]) + (', ...' if len(header) > 12 else '')
        blocks.append(para(f'{count if count is not None else "?"} runs in ',
                           Link(shown(results), results), f' (columns: {shown_header}).'))
    summary = sources.text(os.path.join(folder, SUMMARY))
    if summary and summary.strip():
        blocks.append(Pre(summary.strip('\n'), SUMMARY))
    pictures = sorted({p for pattern in PICTURES
                       for p in glob.glob(os.path.join(glob.escape(folder), pattern))})
    blocks += figures(sources, [(p, os.path.basename(p)) for p in pictures[:MAX_PICTURES]])
    if len(pictures) > MAX_PICTURES:
        blocks.append(para(f'{len(pictures) - MAX_PICTURES} more pictures in ',
                           Code(shown(folder)), '.'))
    return blocks
