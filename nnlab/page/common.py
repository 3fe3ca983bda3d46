"""Blocks every part uses: which command made a result, what to run when there is none,
what `report.py --run` saw go wrong, files that could not be read, and pictures."""
import os

from nnlab.page.doc import Code, Figure, Link, para, warn
from nnlab.page.sources import shown, when

FAILED = {'failed': 'failed', 'interrupted': 'was interrupted', 'skipped': 'was skipped',
          'not run': 'was not run'}


def made_by(path, record, seeded=True):
    """'Made by `command` (finished 2026-12-02 00:56 in 7.3 s; record plot/...)' and, for a
    run that did not finish, a warning; for a drawn seed that mattered (`seeded`: the run
    started from random weights), how to repeat it."""
    took = f' in {record.wall_seconds:.1f} s' if record.wall_seconds is not None else ''
    blocks = [para('Made by ', Code(record.command or '?'),
                   f' ({record.status} {when(record)}{took}; run record ', Code(shown(path)),
                   ').')]
    if record.status == 'interrupted':
        blocks.append(warn('This run was interrupted (Ctrl-C or SIGTERM): the results below '
                           'are what it had finished.'))
    elif record.status != 'finished':
        blocks.append(warn(f'This run did not finish (status {record.status!r}): it was '
                           'stopped at once or is still running, so its results may be '
                           'incomplete.'))
    if seeded and record.seed_drawn and record.seeds:
        seed = record.seeds[0]
        blocks.append(para(f'Seed {seed} was drawn for this run; the same command with ',
                           Code(f'--seed {seed}'), ' repeats it.'))
    return blocks


def attempt_blocks(sources, key):
    """What went wrong when `report.py --run` ran the command for `key`, if anything."""
    step = sources.attempt(key)
    if not step or step.status not in FAILED:
        return []
    detail = f' (exit code {step.exit_code})' if step.exit_code not in (None, 0) else ''
    parts = ['report.py --run: ', Code(step.command or '?'), f' {FAILED[step.status]}{detail}']
    if step.reason:
        parts.append(f': {step.reason}')
    parts.append('.')
    log = os.path.join(sources.out_dir, step.log) if step.log else None
    if log and sources.readable(log):
        parts += [' Its output: ', Link(step.log, log), '.']
    return [warn(*parts)]


def unreadable(sources, part):
    """A warning for each file of this part that could not be read."""
    return [warn('Cannot read ', Code(shown(path)), f': {reason}. The results it held are '
                 'not shown; run the command that makes it again.')
            for path, reason in sources.problems_of(part)]


def to_run(sources, key, commands, looked_for):
    """The note of a question with no results: which file was looked for, what to run."""
    parts = ['No results yet (looked for ', Code(shown(looked_for)), '). Run ']
    for i, command in enumerate(commands):
        parts += [' then ' if i else '', Code(command)]
    parts.append(', or everything at once with ')
    parts += [Code('python3 report.py --run'), '.']
    return attempt_blocks(sources, key) + [para(*parts, kind='note')]


def figures(sources, items, small=False):
    """Figure blocks for the (path, caption) pairs whose file the page may read."""
    return [Figure(path, caption, small) for path, caption in items if sources.readable(path)]


def shortened(sources, anchor, text):
    """Say at the question and, once, at the top of the page that a result comes from a
    shortened run (report.py --run --quick, or flags that cut the training)."""
    sources.shortened.append((anchor, text))
    return warn(f'Shortened run: {text}. The figures are not the assignment\'s.')
