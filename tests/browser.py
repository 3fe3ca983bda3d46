"""Finding and starting a headless Chromium for the browser tests, through Playwright.

The browser is, in order: the one named by $CHROMIUM, Debian's /usr/bin/chromium, then
Playwright's own (after `python -m playwright install chromium`). With none of them the
browser tests are skipped with one line saying how to get one, or fail where
$NNLAB_REQUIRE_BROWSER is set (optional.py: the one rule for optional parts).
NNLAB_NO_BROWSER=1 makes a machine with a browser behave as one without.
"""
import os
import shutil

import pytest
from optional import unavailable

HOW = ('no Chromium for the browser tests: apt-get install chromium (Debian/Ubuntu), set '
       'CHROMIUM=/path/to/chrome, or run: python -m playwright install chromium')
# What a closed network needs (else Chromium keeps trying to reach Google's hosts), and
# what running as root in a container needs.
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync']


def candidates():
    named = os.environ.get('CHROMIUM')
    found = [named] if named else []
    for name in ('/usr/bin/chromium', shutil.which('chromium') or '',
                 shutil.which('chromium-browser') or ''):
        if name and os.path.isfile(name) and os.access(name, os.X_OK) and name not in found:
            found.append(name)
    return found + [None]           # None: Playwright's own browser, if installed


def missing():
    """Why no browser can be launched here (HOW or the Playwright line), or None. Checked
    once per test session, before the browser tests run, so that without a browser they
    are skipped together: one line per test file in pytest's summary."""
    try:
        driver, browser = launch()
    except pytest.skip.Exception as skipped:
        return str(skipped.msg)
    browser.close()
    driver.stop()
    return None


def launch():
    """(playwright, browser): a headless Chromium; skips (or fails) the test without one."""
    if os.environ.get('NNLAB_NO_BROWSER'):
        unavailable('BROWSER', f'{HOW} (NNLAB_NO_BROWSER is set)')
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable('BROWSER', 'Playwright is not installed: pip install -r requirements-dev.txt')
    driver = sync_playwright().start()
    tried = []
    for path in candidates():
        try:
            return driver, driver.chromium.launch(executable_path=path, headless=True,
                                                  args=ARGS)
        except Error as err:
            tried.append(f"{path or 'Playwright chromium'}: {str(err).splitlines()[0]}")
    driver.stop()
    unavailable('BROWSER', HOW)


class Watched:
    """A page whose console errors, page errors and network requests are collected."""

    def __init__(self, browser, width=1100, height=800):
        self.context = browser.new_context(viewport={'width': width, 'height': height})
        self.page = self.context.new_page()
        self.errors, self.requests = [], []
        self.page.on('console', lambda m: m.type == 'error' and self.errors.append(m.text))
        self.page.on('pageerror', lambda e: self.errors.append(str(e)))
        self.page.on('request', lambda r: r.url.startswith(('http:', 'https:', 'ws:'))
                     and self.requests.append(r.url))

    def open(self, path):
        self.page.goto(f'file://{os.path.abspath(path)}')
        self.page.wait_for_load_state('load')
        return self.page

    def close(self):
        self.context.close()
