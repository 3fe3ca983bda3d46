"""The numbers of the summary table: success shares with Wilson intervals, means, medians.

Why Wilson: the plain interval p +- 1.96 sqrt(p(1-p)/n) collapses to a width of zero at
0 of 8 or 8 of 8, exactly the cases sweeps of stuck training produce; the Wilson score
interval stays inside 0..1 and keeps an honest width there (0 of 8: 0 to 32%).
"""
import math
import statistics

Z95 = 1.96


def wilson_interval(successes, runs, z=Z95):
    """The Wilson score interval (low, high) for successes out of runs; (0, 1) for no runs."""
    if runs == 0:
        return 0.0, 1.0
    p = successes / runs
    z2 = z * z
    centre = (p + z2 / (2 * runs)) / (1 + z2 / runs)
    half = z / (1 + z2 / runs) * math.sqrt(p * (1 - p) / runs + z2 / (4 * runs * runs))
    return max(0.0, centre - half), min(1.0, centre + half)


def _numbers(rows, column):
    values = []
    for row in rows:
        try:
            values.append(float(row[column]))
        except (KeyError, TypeError, ValueError):
            pass
    return [v for v in values if math.isfinite(v)]


def summarise(rows, kind):
    """One setting's figures from its results.csv rows (dicts of strings)."""
    finished = [r for r in rows if r['status'] == 'ok']
    seconds = _numbers(finished, 'seconds')
    metric = _numbers(finished, kind.metric.column)
    out = dict(runs=len(finished), failed=len(rows) - len(finished),
               median_seconds=statistics.median(seconds) if seconds else None,
               median_metric=statistics.median(metric) if metric else None)
    if kind.has_criterion:
        successes = sum(r['success'] == 'True' for r in finished)
        out.update(successes=successes,
                   share=successes / len(finished) if finished else None,
                   interval=wilson_interval(successes, len(finished)))
    if kind.name == 'check_main.py':
        reached = _numbers([r for r in finished if r['success'] == 'True'], 'reached_at')
        out['median_reached_at'] = statistics.median(reached) if reached else None
    if kind.name == 'kuzu_main.py':
        out.update(mean=statistics.fmean(metric) if metric else None,
                   sd=statistics.stdev(metric) if len(metric) > 1 else None,
                   low=min(metric, default=None), high=max(metric, default=None))
    return out
