"""sweep.py's machinery: run a training script over seeds and settings, one process a task,
on this machine's cores or on a Ray cluster, and summarise how often training works.

    plan.py         seeds, grid, settings, tasks; the flags checked by the script's parser
    scripts.py      what differs per script (outputs, blocks of seeds, record fields)
    process.py      one task process in its own folder
    local.py        --backend local: up to --jobs processes here
    ray_backend.py  --backend ray: the same processes as Ray tasks
    results.py      DIR/results.csv, rewritten atomically as tasks finish
    stats.py        Wilson intervals and per-setting figures
    summary.py      DIR/summary.md, success.png, metric.png
    runner.py       the flow: folder checks, resume, progress, Ctrl-C

See docs/sweeps.md.
"""
