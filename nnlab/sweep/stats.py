"""The numbers of the summary table: success shares with Wilson intervals, medians, and
how they are written.

Why Wilson: the plain interval p +- 1.96 sqrt(p(1-p)/n) collapses to a width of zero at
0 of 8 or 8 of 8, exactly the cases sweeps of stuck training produce; the Wilson score
interval stays inside 0..1 and keeps an honest width there (0 of 8: 0 to 32%). scipy
computes it; a setting with no finished run has no interval.
"""
import statistics

from nnlab.sweep.scripts import median, numbers

CONFIDENCE = 0.95


def wilson_interval(successes, runs):
    """The Wilson score interval (low, high) for successes out of runs; None for no runs."""
    if runs == 0:
        return None
    from scipy.stats import binomtest
    interval = binomtest(successes, runs).proportion_ci(confidence_level=CONFIDENCE,
                                                        method='wilson')
    return float(interval.low), float(interval.high)


def pct(value):
    return '' if value is None else f'{100 * value:.0f}%'


def num(value, digits=4):
    """4 significant digits; large numbers (epochs, seconds) whole, never as 2.242e+04."""
    if value is None:
        return ''
    return f'{value:,.0f}' if abs(value) >= 10 ** digits else f'{value:.{digits}g}'


def span(interval):
    """A Wilson interval's cell, e.g. 14%-69%; empty for none."""
    return f'{pct(interval[0])}-{pct(interval[1])}' if interval else ''


def summarise(rows, kind):
    """One setting's figures from its results.csv rows (ResultRow); `cells` are its row
    of the summary table, after the setting."""
    finished = [r for r in rows if r.ok]
    values = numbers(finished, kind.metric.column)
    out = dict(runs=len(finished), failed=len(rows) - len(finished),
               median_seconds=median(numbers(finished, 'seconds')),
               median_metric=median(values))
    if kind.has_criterion:
        successes = sum(r.success for r in finished)
        out.update(successes=successes,
                   share=successes / len(finished) if finished else None,
                   interval=wilson_interval(successes, len(finished)))
        cells = [out['runs'], successes, pct(out['share']), span(out['interval']),
                 num(kind.typical(finished))]
        if kind.more_head:
            # seq_train.py's generalisation: the share of runs right past the training
            # range, its interval, the median e1 of the runs that met the criterion
            right, measured, median_e1 = kind.beyond(finished)
            out.update(beyond=right, measured=measured,
                       beyond_interval=wilson_interval(right, measured), median_e1=median_e1)
            cells += [f'{right}/{measured} ({pct(right / measured)})' if measured else '',
                      span(out['beyond_interval']), num(median_e1)]
    else:
        mean = statistics.fmean(values) if values else None
        sd = statistics.stdev(values) if len(values) > 1 else None
        out.update(mean=mean, sd=sd, low=min(values, default=None),
                   high=max(values, default=None))
        cells = [out['runs'], num(mean), num(sd, 2), num(out['low']), num(out['high'])]
    out['cells'] = cells + [num(out['median_seconds'], 3), out['failed']]
    return out
