"""The generalisation figures as text: the line and the per-n table that seq_plot.py
--generalise and seq_train.py print and the report page shows (standard library only, so
the page can format them without numpy; the rule itself is in generalise.py)."""

SYMBOLS = 'ABC'


def due(multiples, n, position):
    """The symbol at `position` (1-based) of A^n B^(k1 n) [C^(k2 n)] A."""
    index, end = position - 1, n
    if index < end:
        return SYMBOLS[0]
    for phase, k in enumerate(multiples, start=1):
        end += k * n
        if index < end:
            return SYMBOLS[phase]
    return SYMBOLS[0]                   # the next string's first A


def line(g):
    """The one-line summary, e.g. 'generalisation: right for every n up to 7; first
    errors at n = 8, 9, 10, 11, 12 (checked n = 1..100, trained on n = 1..4)'."""
    head = ('right for no n' if g.largest_n_right == 0
            else f"right for every n up to {g.largest_n_right}")
    errors = (f"; first errors at n = {', '.join(map(str, g.first_errors))}"
              if g.first_errors else '')
    return (f"generalisation: {head}{errors} (checked n = 1..{g.checked}, trained on "
            f"n = 1..{g.trained})")


def table(g, multiples):
    """Per n: right or not, the first wrong position (and the symbol due there), the
    right symbol's probability there, and the weakest determined position."""
    rows = [f"{'n':>4}  {'right':5}  {'first wrong':>11}  {'p(right) there':>14}  "
            f"{'weakest p(right)':>16}  {'at':>5}"]
    for i in range(g.checked):
        n = i + 1
        if g.first_wrong[i] is None:
            wrong, there = '-', '-'
        else:
            wrong = f"{g.first_wrong[i]} ({due(multiples, n, g.first_wrong[i])})"
            there = f"{g.p_first_wrong[i]:.4g}"
        rows.append(f"{n:>4}  {'yes' if g.right[i] else 'no':5}  {wrong:>11}  {there:>14}  "
                    f"{g.weakest[i]:>16.4g}  {g.weakest_at[i]:>5}")
    return '\n'.join(rows)
