"""The page in a real browser: headless Chromium, driven by Playwright, opens
report/index.html from disk (how the browser is found: tests/browser.py)."""
import re
import struct

import pytest
from browser import Watched
from test_report import real_runs

CM = 96 / 2.54                  # CSS pixels per centimetre
WIDTH, HEIGHT = 1100, 800


@pytest.fixture(scope='module')
def watched(tmp_path_factory, browser):
    runs = real_runs(tmp_path_factory)
    tab = Watched(browser, WIDTH, HEIGHT)
    tab.open(runs / 'report' / 'index.html')
    yield tab
    tab.close()


@pytest.mark.slow
def test_every_picture_has_loaded(watched, tmp_path_factory):
    widths = watched.page.evaluate(
        'Array.from(document.images).map(i => [i.complete, i.naturalWidth])')
    source = (real_runs(tmp_path_factory) / 'report' / 'index.html').read_text()
    assert len(widths) == source.count('<img ') >= 20
    assert all(complete and width > 0 for complete, width in widths), widths


@pytest.mark.slow
def test_the_browser_reports_no_errors_and_no_requests(watched):
    assert watched.page.title().startswith('Neural networks, assignment 1')
    assert watched.errors == [] and watched.requests == []


@pytest.mark.slow
def test_screenshot_is_a_picture_of_the_page(watched, tmp_path):
    data = watched.page.screenshot(path=tmp_path / 'page.png')
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    width, height = struct.unpack('>II', data[16:24])        # the IHDR chunk
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(data) > 20_000       # text and pictures, not a blank window


@pytest.mark.slow
def test_page_prints_to_pdf_with_each_figure_whole(watched, tmp_path):
    page = watched.page
    page.emulate_media(media='print')
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
        page.emulate_media(media='screen')
    assert layout['figures'] and set(layout['figures']) == {'avoid'}
    assert set(layout['tables']) == {'avoid'}
    assert set(layout['parts']) == {'page'}
    # A4 less the 1.5 cm margins is 26.7 cm high; pictures are kept at 12 cm or less
    assert max(layout['heights']) <= 12 * CM + 1, layout['heights']
    pdf = page.pdf(path=tmp_path / 'page.pdf', format='A4')
    assert pdf.startswith(b'%PDF-')
    pages = len(re.findall(rb'/Type\s*/Page(?!s)', pdf))
    assert pages >= 8 and len(pdf) > 200_000       # every part, with its pictures
