"""The page in a real browser: Debian's headless Chromium (installed by .ci/run) opens
report/index.html from disk, through the DevTools protocol over a pipe
(nnlab/report/browser.py).

Without Chromium these tests fail, so that CI cannot pass without having run them; set
NNLAB_NO_BROWSER=1 to skip them on a machine that cannot have a browser (they then show
as skipped, with that reason).
"""
import os
import re
import struct

import pytest
from test_report import real_runs

from nnlab.report.browser import Browser, executable

CM = 96 / 2.54                  # CSS pixels per centimetre
WIDTH, HEIGHT = 1100, 800


@pytest.fixture(scope='module')
def browser():
    if executable() is None:
        if os.environ.get('NNLAB_NO_BROWSER'):
            pytest.skip('NNLAB_NO_BROWSER is set: no browser on this machine')
        pytest.fail('no Chromium at /usr/bin/chromium: apt-get install chromium (.ci/run '
                    'does), set CHROMIUM=PATH, or NNLAB_NO_BROWSER=1 to skip these tests')
    with Browser(timeout=60) as opened:
        yield opened


@pytest.fixture(scope='module')
def page(tmp_path_factory, browser):
    runs = real_runs(tmp_path_factory)
    return browser.open(runs / 'report' / 'index.html', WIDTH, HEIGHT)


def test_every_picture_has_loaded(page, tmp_path_factory):
    widths = page.evaluate('Array.from(document.images).map(i => [i.complete, i.naturalWidth])')
    source = (real_runs(tmp_path_factory) / 'report' / 'index.html').read_text()
    assert len(widths) == source.count('<img ') >= 20
    assert all(complete and width > 0 for complete, width in widths), widths


def test_the_browser_reports_no_errors(page, browser):
    assert page.evaluate('document.title').startswith('Neural networks, assignment 1')
    assert browser.errors() == []


def test_screenshot_is_a_picture_of_the_page(page, tmp_path):
    shot = page.screenshot(tmp_path / 'page.png')
    data = shot.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    width, height = struct.unpack('>II', data[16:24])        # the IHDR chunk
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(data) > 20_000       # text and pictures, not a blank window


def test_page_prints_to_pdf_with_each_figure_whole(page, tmp_path):
    page.media('print')
    try:
        layout = page.evaluate("""(() => {
            const style = e => getComputedStyle(e);
            return {
              figures: Array.from(document.querySelectorAll('figure')).map(
                f => style(f).breakInside),
              tables: Array.from(document.querySelectorAll('table')).map(
                t => style(t).breakInside),
              parts: Array.from(document.querySelectorAll('h2')).map(h => style(h).breakBefore),
              heights: Array.from(document.images).map(i => i.getBoundingClientRect().height),
            };
        })()""")
    finally:
        page.media('screen')
    assert layout['figures'] and set(layout['figures']) == {'avoid'}
    assert set(layout['tables']) == {'avoid'}
    assert set(layout['parts']) == {'page'}
    # A4 less the 1.5 cm margins is 26.7 cm high; pictures are kept at 12 cm or less
    assert max(layout['heights']) <= 12 * CM + 1, layout['heights']
    pdf = page.pdf(tmp_path / 'page.pdf').read_bytes()
    assert pdf.startswith(b'%PDF-')
    pages = len(re.findall(rb'/Type\s*/Page(?!s)', pdf))
    assert pages >= 8 and len(pdf) > 200_000       # every part, with its pictures
