"""report.py's machinery: one page of every result the three parts left.

    sources.py   what the runs left (records, analyses, texts, pictures), read with care
    part1.py part2.py part3.py sweeps.py   what the page says about each part
    doc.py       the blocks the parts are made of; html.py and markdown.py render them
    build.py     the page put together, index.html and report.md written
    commands.py  the assignment's commands for --run; runner.py runs them

Only the standard library is used: building the page needs no torch.
"""
