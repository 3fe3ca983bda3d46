"""Put the page together: a title, when and from what it was made, a warning when results
come from shortened runs, the contents, the three parts, the sweeps, and (after
`report.py --run`) the commands that were run; then write index.html and report.md."""
import datetime
import os

from nnlab.files import atomic_write_text, ensure_dir
from nnlab.machine import git_commit
from nnlab.page import html, markdown, part1, part2, part3, sweeps
from nnlab.page.common import unreadable
from nnlab.page.doc import Code, Heading, Link, Table, contents, para, warn
from nnlab.page.sources import Sources, shown, when

TITLE = 'Neural networks, assignment 1: results'


def document(sources, sweep_dirs):
    body = (part1.build(sources) + part2.build(sources) + part3.build(sources)
            + sweeps.build(sources, sweep_dirs) + runs_blocks(sources))
    commit = git_commit()
    made = datetime.datetime.now().strftime('%Y-%m-%d %H:%M')
    head = [Heading(1, TITLE),
            para(f'Made by report.py on {made} from the files in ', Code(shown(sources.plot_dir)),
                 ' and ', Code(shown(sources.net_dir)),
                 f'{f" (toolkit commit {commit[:12]}{commit[40:]})" if commit else ""}. Each '
                 'result names the command that made it.', kind='meta')]
    explore = os.path.join(os.path.dirname(os.path.abspath(sources.out_dir)), 'explore',
                           'index.html')
    if os.path.isfile(explore):
        head.append(para('Try the networks by hand (draw a character for Part 1, drag Part '
                         '2\'s lines, step Part 3\'s strings): ', Link(shown(explore), explore),
                         ', made by ', Code('python3 explore.py'), '.'))
    if sources.shortened:
        listed = short_list(body, sources.shortened)
        quick = (' (made by report.py --run --quick)' if sources.manifest and any(
            step.quick for step in sources.manifest.steps) else '')
        head.append(warn(f'Some results come from shortened runs{quick} and are not the '
                         f'assignment\'s figures: {listed} (each says how). Run ',
                         Code('python3 report.py --run'), ' for the full ones.'))
    return head + [contents(body)] + body


def short_list(blocks, anchors):
    """'Part 1 questions 1, 2, 3; Part 3 question 1' for the questions with these anchors
    (a question's number is the start of its heading)."""
    found, part = {}, ''
    for block in blocks:
        if isinstance(block, Heading) and block.level == 2:
            part = block.text.split(':')[0]
        elif isinstance(block, Heading) and block.anchor in anchors:
            found.setdefault(part, []).append(block.text.split('.')[0])
    return '; '.join(f'{part} question{"s" if len(numbers) > 1 else ""} {", ".join(numbers)}'
                     for part, numbers in found.items())


def runs_blocks(sources):
    """The commands the last `report.py --run` ran, how each ended and where its output is."""
    manifest = sources.manifest
    heading = Heading(2, 'The commands report.py --run ran', 'runs')
    problems = unreadable(sources, 'runs')
    if not manifest or not manifest.steps:
        return [heading, *problems] if problems else []
    rows = tuple((str(step.part), step.command, step.status, step.started[:16].replace('T', ' '),
                  '' if step.seconds is None else f'{step.seconds:.1f} s', step.log)
                 for step in manifest.steps)
    took = '' if manifest.seconds is None else f' ({manifest.seconds:.0f} s)'
    logs = os.path.join(sources.out_dir, 'logs')
    return [heading, *problems,
            para(f'The last report.py --run started {when(manifest)}{took}. Each command\'s '
                 'output is kept in ', Link(shown(logs), logs), '.'),
            Table(('part', 'command', 'status', 'started', 'time', 'output'), rows)]


def build_page(plot_dir, net_dir, out_dir, sweep_dirs=None):
    """Write {out_dir}/index.html and report.md; returns their paths and the block list."""
    if sweep_dirs is None:
        sweep_dirs = sweeps.default_dirs()
    sources = Sources(plot_dir, net_dir, out_dir, sweep_dirs)
    blocks = document(sources, sweep_dirs)
    ensure_dir(out_dir)
    page = atomic_write_text(os.path.join(out_dir, 'index.html'),
                             html.render(blocks, out_dir, TITLE, sources.read_bytes))
    text = atomic_write_text(os.path.join(out_dir, 'report.md'), markdown.render(blocks, out_dir))
    return page, text, blocks
