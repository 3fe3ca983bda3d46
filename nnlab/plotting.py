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


def save_frames_gif(fig, update, frames, path, fps=8, dpi=80, palette=None):
    """Draw `frames` frames (update(i) changes the figure) into a looping GIF, atomically.

    Every frame is mapped without dithering onto `palette` (RGB triples in 0..1: the
    picture's own colours, e.g. a colour map's steps and a grey ramp), so large plain
    areas compress well and rare colours survive: a 480x480 turn of a scatter stays a
    small file. Without a palette each frame gets 64 colours of its own.
    """
    from PIL import Image
    fig.set_dpi(dpi)
    fixed = None
    if palette is not None:
        flat = [min(255, max(0, round(255 * c))) for rgb in palette for c in rgb[:3]]
        fixed = Image.new('P', (1, 1))
        fixed.putpalette(flat + flat[:3] * (256 - len(palette)))
    images = []
    for i in range(frames):
        update(i)
        fig.canvas.draw()
        rgb = Image.frombuffer('RGBA', fig.canvas.get_width_height(),
                               fig.canvas.buffer_rgba()).convert('RGB')
        images.append(rgb.quantize(palette=fixed, dither=Image.Dither.NONE) if fixed
                      else rgb.quantize(colors=64, dither=Image.Dither.NONE))
    return atomic_write(path, lambda tmp: images[0].save(
        tmp, format='GIF', save_all=True, append_images=images[1:], loop=0,
        duration=round(1000 / fps), optimize=True))
