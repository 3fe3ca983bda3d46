"""explore/index.html: the page's HTML, style and scripts (files beside this one) with
the gathered data inlined as JSON. No network, no build step: the browser runs the
scripts as they are written here."""
import json
import os
import re

from nnlab.files import atomic_write_text

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ('common.js', 'part1.js', 'part2.js', 'part3engine.js', 'part3train.js', 'part3.js',
           'main.js')


def _read(name):
    with open(os.path.join(HERE, name), encoding='utf-8') as f:
        return f.read()


def inline_json(data):
    """JSON that cannot end the <script> element it sits in: every `<` (only ever inside
    a string) as its escape \\u003c, which JSON.parse reads back as `<`."""
    return json.dumps(data, allow_nan=False, separators=(',', ':')).replace('<', '\\u003c')


def inline_script(text):
    """A script as it may sit inside <script>: a `</` (in a string) becomes `<\\/`, the
    same characters to JavaScript."""
    if '<!--' in text:
        raise ValueError('a script of the explore page holds <!--')
    return text.replace('</', '<\\/')


def render(data):
    """The whole page as one string."""
    # One <script>: each file one namespace (an IIFE, eslint.config.js), all strict.
    scripts = "'use strict';\n" + '\n'.join(inline_script(_read(name)) for name in SCRIPTS)
    payload = inline_json(data)
    parts = {'STYLE': _read('style.css'), 'DATA': payload, 'SCRIPTS': scripts}
    # One pass, so that nothing inserted (a path in the data) is itself replaced.
    return re.sub(r'/\*(STYLE|DATA|SCRIPTS)\*/', lambda m: parts[m.group(1)],
                  _read('page.html'))


def write(path, data):
    return atomic_write_text(path, render(data))
