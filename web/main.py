# Entry point PyScript runs: hand the JS bridge to the app (pyexplainer/page/start.py).
from pyscript.js_modules import bridge

from pyexplainer.page.start import start

await start(bridge)  # noqa: F704 (PyScript runs this file with top-level await)
