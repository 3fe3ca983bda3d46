"""A small DevTools-protocol client for headless Chromium, for testing the page in a real
browser and taking its screenshot; standard library only.

Chromium is started with `--remote-debugging-pipe`: it reads commands on its file
descriptor 3 and writes replies and events on 4, each a JSON message ended by a NUL
byte. That needs no port, no websocket client and no extra package (Playwright and
Puppeteer talk to it the same way).

    with Browser() as browser:
        page = browser.open('report/index.html')
        page.evaluate('document.images.length')
        page.screenshot('page.png'); page.pdf('page.pdf')
        browser.errors()       # what the page and the browser reported as errors

As a command, for the screenshot in the docs:

    python3 -m nnlab.report.browser report/index.html --png docs/images/report.png
"""
import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

EXECUTABLE = '/usr/bin/chromium'    # Debian's package (.ci/run installs it)
# The flags this machine needs (the environment's notes): no sandbox as root, no GPU, and
# nothing that reaches for the network, whose refused connections would only slow it.
FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--hide-scrollbars', '--mute-audio', '--remote-debugging-pipe')


class BrowserError(Exception):
    pass


def executable():
    """The Chromium to use: $CHROMIUM if set, else Debian's /usr/bin/chromium, else None."""
    path = os.environ.get('CHROMIUM') or EXECUTABLE
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


class Browser:
    def __init__(self, path=None, timeout=30.0):
        self.path = path or executable()
        if self.path is None:
            raise BrowserError(f'no Chromium at {EXECUTABLE} (apt-get install chromium, '
                               f'or set CHROMIUM)')
        self.timeout = timeout
        self.events, self._replies, self._next = [], queue.Queue(), 0
        self.profile = tempfile.mkdtemp(prefix='nnlab-chromium-')
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()

        def give_fds():     # in the child: the pipe ends become its fds 3 and 4
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [self.path, *FLAGS, f'--user-data-dir={self.profile}', 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            close_fds=False, preexec_fn=give_fds)
        os.close(to_browser)
        os.close(from_browser)
        self._stderr = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self._stderr.append(line.decode('utf-8', 'replace').rstrip())

    def _pump(self):
        """Read NUL-separated messages; replies go to a queue, events to self.events."""
        buffer = b''
        while True:
            try:
                chunk = os.read(self._read, 1 << 16)
            except OSError:
                chunk = b''
            if not chunk:
                self._replies.put(None)         # the browser is gone
                return
            buffer += chunk
            while b'\0' in buffer:
                raw, buffer = buffer.split(b'\0', 1)
                message = json.loads(raw)
                if 'id' in message:
                    self._replies.put(message)
                else:
                    self.events.append(message)

    def send(self, method, params=None, session=None):
        """Send one command and wait for its reply's result."""
        self._next += 1
        message = {'id': self._next, 'method': method, 'params': params or {}}
        if session:
            message['sessionId'] = session
        os.write(self._write, json.dumps(message).encode() + b'\0')
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                reply = self._replies.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise BrowserError(f'no reply to {method} within {self.timeout:.0f} s')
            if reply is None:
                raise BrowserError(f'Chromium exited during {method}: '
                                   + ' | '.join(self._stderr[-5:]))
            if reply['id'] == self._next:
                if 'error' in reply:
                    raise BrowserError(f'{method}: {reply["error"].get("message")}')
                return reply.get('result', {})

    def wait_for(self, method, session, since=0):
        """Wait for an event of `method` on `session` (after event number `since`)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for event in self.events[since:]:
                if event.get('method') == method and event.get('sessionId') == session:
                    return event
            time.sleep(0.05)
        raise BrowserError(f'no {method} within {self.timeout:.0f} s')

    def open(self, path, width=1200, height=900):
        """A new tab showing the file `path`, loaded (pictures included)."""
        target = self.send('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = self.send('Target.attachToTarget',
                            {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Page', 'Runtime', 'Log'):
            self.send(f'{domain}.enable', session=session)
        self.send('Emulation.setDeviceMetricsOverride', {'width': width, 'height': height,
                  'deviceScaleFactor': 1, 'mobile': False}, session)
        since = len(self.events)
        self.send('Page.navigate', {'url': Path(path).resolve().as_uri()}, session)
        self.wait_for('Page.loadEventFired', session, since)
        return Page(self, session)

    def errors(self):
        """Errors the pages and the browser reported: exceptions, console.error, and log
        entries of level error (a refused or failed load, a policy violation)."""
        found = []
        for event in self.events:
            method, params = event.get('method'), event.get('params', {})
            if method == 'Runtime.exceptionThrown':
                found.append(params.get('exceptionDetails', {}).get('text', 'exception'))
            elif method == 'Runtime.consoleAPICalled' and params.get('type') in ('error',
                                                                                   'assert'):
                found.append(' '.join(str(a.get('value', a.get('description', '')))
                                      for a in params.get('args', [])))
            elif method == 'Log.entryAdded' and params.get('entry', {}).get('level') == 'error':
                entry = params['entry']
                found.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")
        return found

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.send('Browser.close')
                except BrowserError:
                    pass
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for fd in (self._write, self._read):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser, session):
        self.browser, self.session = browser, session

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (run by the test, not the page)."""
        result = self.browser.send('Runtime.evaluate', {'expression': expression,
                                   'returnByValue': True, 'awaitPromise': True}, self.session)
        if 'exceptionDetails' in result:
            raise BrowserError(f'evaluate: {result["exceptionDetails"].get("text")}')
        return result['result'].get('value')

    def media(self, kind):
        """Lay the page out for 'print' or 'screen'."""
        self.browser.send('Emulation.setEmulatedMedia', {'media': kind}, self.session)

    def screenshot(self, path, height=None):
        """A PNG of the page's top `height` pixels (default: the window)."""
        params = {'format': 'png'}
        if height:
            width = self.evaluate('document.documentElement.clientWidth')
            params.update(clip={'x': 0, 'y': 0, 'width': width, 'height': height, 'scale': 1},
                          captureBeyondViewport=True)
        data = self.browser.send('Page.captureScreenshot', params, self.session)['data']
        Path(path).write_bytes(base64.b64decode(data))
        return path

    def pdf(self, path):
        """Print the page to PDF as a user's 'Save as PDF' would (A4, the page's styles)."""
        data = self.browser.send('Page.printToPDF', {'printBackground': True,
                                 'paperWidth': 8.27, 'paperHeight': 11.69,
                                 'preferCSSPageSize': True}, self.session)['data']
        Path(path).write_bytes(base64.b64decode(data))
        return path


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description='Screenshot or print a page with '
                                                 'headless Chromium.')
    parser.add_argument('page')
    parser.add_argument('--png', help='write a screenshot of the top of the page here')
    parser.add_argument('--height', type=int, default=1400, help='screenshot height (px)')
    parser.add_argument('--width', type=int, default=1100, help='window width (px)')
    parser.add_argument('--pdf', help='print the page to this PDF')
    args = parser.parse_args(argv)
    with Browser() as browser:
        page = browser.open(args.page, width=args.width)
        if args.png:
            page.screenshot(args.png, args.height)
        if args.pdf:
            page.pdf(args.pdf)
        for error in browser.errors():
            print('browser error:', error)


if __name__ == '__main__':
    main()
