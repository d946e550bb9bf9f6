# Entry point PyScript runs: hand the JS bridge to the app (pyexplainer/page/start.py). Python
# runs from here on, and the app is imported: both marked for the benchmark's timeline.
import js
from pyscript.js_modules import bridge

js.performance.mark("pyexplainer:python-ready")
from pyexplainer.page.start import start  # noqa: E402

js.performance.mark("pyexplainer:app-imported")
await start(bridge)  # noqa: F704 (PyScript runs this file with top-level await)
