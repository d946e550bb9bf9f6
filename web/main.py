# Entry point PyScript runs: hand the JS bridge to the app (pyexplainer/app.py).
from pyscript.js_modules import bridge

from pyexplainer.app import start

await start(bridge)  # noqa: F704 (PyScript runs this file with top-level await)
