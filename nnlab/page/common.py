"""Blocks every part uses: which command made a result, what to run when there is none,
what `report.py --run` saw go wrong, files that could not be read, and pictures."""
import os

from nnlab.page.commands import course_command
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
    return [warn('Cannot read ', Code(shown(path)), f': {reason}. The results it held are '
                 'not shown; run the command that makes it again.')
            for path, reason in sources.problems_of(part)]


def to_run(sources, looked_for, *keys):
    """The note of a question with no results: which file was looked for, the commands of
    `keys` to run (and what went wrong with the first's when report.py --run ran it)."""
    parts = ['No results yet (looked for ', Code(shown(looked_for)), '). Run ']
    for i, key in enumerate(keys):
        parts += [' then ' if i else '', Code(course_command(key))]
    parts += [', or everything at once with ', Code('python3 report.py --run'), '.']
    return attempt_blocks(sources, keys[0]) + [para(*parts, kind='note')]


def formatted(value, form='{:.4f}'):
    """A number of a record as the page shows it; '?' where the record has none."""
    return '?' if value is None else form.format(value)


def figures(sources, items, small=False):
    return [Figure(path, caption, small) for path, caption in items if sources.readable(path)]


def shortened(sources, anchor, text):
    """Say at the question and, once, at the top of the page that a result comes from a
    shortened run (report.py --run --quick, or flags that cut the training); nothing when
    `text` (how it was shortened) is empty."""
    if not text:
        return []
    sources.shortened.append(anchor)
    return [warn(f'Shortened run: {text}. The figures are not the assignment\'s.')]
