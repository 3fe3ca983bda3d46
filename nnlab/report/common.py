"""Blocks every part uses: which command made a result, what to run when there is none,
what `report.py --run` saw go wrong, and pictures that may be missing."""
import os

from nnlab.report.doc import Code, Figure, Link, para, warn
from nnlab.report.sources import is_file, shown, when

FAILED = {'failed': 'failed', 'interrupted': 'was interrupted', 'skipped': 'was skipped',
          'not run': 'was not run'}


def made_by(path, record, seeded=True):
    """'Made by `command` (finished 2026-12-02 00:56 in 7.3 s; record plot/...)' and, for a
    run that did not finish, a warning; for a drawn seed that mattered (`seeded`: the run
    started from random weights), how to repeat it."""
    wall = record.get('wall_seconds')
    took = f' in {wall:.1f} s' if isinstance(wall, (int, float)) else ''
    status = record.get('status') or 'unknown'
    blocks = [para('Made by ', Code(record.get('command') or '?'),
                   f' ({status} {when(record)}{took}; run record ', Code(shown(path)), ').')]
    if status == 'interrupted':
        blocks.append(warn('This run was interrupted (Ctrl-C or SIGTERM): the results below '
                           'are what it had finished.'))
    elif status != 'finished':
        blocks.append(warn(f'This run did not finish (status {status!r}): it was stopped at '
                           'once or is still running, so its results may be incomplete.'))
    seeds = record.get('seeds') or []
    if seeded and record.get('seed_drawn') and seeds:
        blocks.append(para(f'Seed {seeds[0]} was drawn for this run; the same command with ',
                           Code(f'--seed {seeds[0]}'), ' repeats it.'))
    return blocks


def attempt_blocks(sources, key):
    """What went wrong when `report.py --run` ran the command for `key`, if anything."""
    step = sources.attempt(key)
    if not step or step.get('status') not in FAILED:
        return []
    what = FAILED[step['status']]
    code = step.get('exit_code')
    detail = f' (exit code {code})' if code not in (None, 0) else ''
    parts = ['report.py --run: ', Code(step.get('command') or '?'), f' {what}{detail}']
    if step.get('reason'):
        parts.append(f': {step["reason"]}')
    parts.append('.')
    if step.get('log') and is_file(os.path.join(sources.out_dir, step['log'])):
        parts += [' Its output: ', Link(step['log'], os.path.join(sources.out_dir, step['log'])),
                  '.']
    return [warn(*parts)]


def to_run(sources, key, commands, looked_for):
    """The note of a question with no results: which file was looked for, what to run."""
    parts = ['No results yet (looked for ', Code(shown(looked_for)), '). Run ']
    for i, command in enumerate(commands):
        parts += [' then ' if i else '', Code(command)]
    parts.append(', or everything at once with ')
    parts += [Code('python3 report.py --run'), '.']
    return attempt_blocks(sources, key) + [para(*parts, kind='note')]


def figures(items, small=False):
    """Figure blocks for the (path, caption) pairs whose file exists."""
    return [Figure(path, caption, small) for path, caption in items if is_file(path)]


def shortened(sources, anchor, text):
    """Say at the question and, once, at the top of the page that a result comes from a
    shortened run (report.py --run --quick, or flags that cut the training)."""
    sources.shortened.append((anchor, text))
    return warn(f'Shortened run: {text}. The figures are not the assignment\'s.')
