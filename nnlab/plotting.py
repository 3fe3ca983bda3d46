"""Plotting helpers shared by all parts: headless by default, atomic saves.

Import `plt` from here (not matplotlib.pyplot directly) so the Agg backend is chosen
before pyplot loads; call `use_window()` first when the user asked for `--show`.
"""
import os

import matplotlib

if not os.environ.get('MPLBACKEND'):
    matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from nnlab.files import atomic_write  # noqa: E402


def use_window():
    """Switch to an interactive backend for --show; stay headless if none works."""
    for backend in ('TkAgg', 'QtAgg'):
        try:
            plt.switch_backend(backend)
            return True
        except Exception:
            continue
    print("note: no window system available; pictures are saved only", flush=True)
    return False


def save_figure(fig, path, dpi=120, close=True, tight=True):
    """Save `fig` atomically (temporary file, then rename); JPEG/PNG from the suffix.

    `tight` trims the white margin, which costs a second drawing of the figure; a
    figure laid out by hand (fixed axes positions) saves about twice as fast without.
    """
    ext = os.path.splitext(path)[1].lstrip('.').lower() or 'png'
    fmt = 'jpeg' if ext == 'jpg' else ext
    bbox = 'tight' if tight else None
    atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches=bbox))
    if close:
        plt.close(fig)
    return path


def save_animation(anim, path, fps=10, dpi=80):
    """Save a matplotlib animation as a GIF (Pillow writer), atomically."""
    from matplotlib.animation import PillowWriter
    return atomic_write(path, lambda tmp: anim.save(tmp, writer=PillowWriter(fps=fps),
                                                    dpi=dpi))
