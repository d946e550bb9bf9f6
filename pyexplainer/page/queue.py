"""One action at a time (a run, a generation step, the lens...), in the order the student asked
for them; clicks that come faster than the model answers queue up and none is dropped."""

from __future__ import annotations

import json
import traceback

import js  # Pyodide only

from pyexplainer.messages import described
from pyexplainer.page import status
from pyexplainer.ui.dom import element

# off until the model is there (index.html), then always on: clicks while it runs queue up
MODEL_BUTTONS = ("run-button", "generate-button", "generate-many", "recompute-button")


def ask(page) -> int:
    """The next number in the order of what the student asked for."""
    page.asked += 1
    return page.asked


async def guarded(page, work, *, run: bool = False, superseded: bool = False) -> None:
    """Run one user action once those asked for before it have finished (each reads what
    the last one left: the text, the trace, the cache); any failure becomes the status
    message. Clicks arriving faster than the model answers queue up, none is dropped: a
    `run` (of the prompt as it is then) makes every `superseded` action asked for before
    it moot, and those are skipped."""
    number = ask(page)
    if run:
        page.last_run_asked = number
    page.queued += 1
    element("status").dataset.queued = str(page.queued)  # for tests and tools
    status.show_status(page, "running")
    async with page.busy:
        page.timings = {}
        started = js.performance.now()
        try:
            if superseded and number < page.last_run_asked:
                return  # a later Run replaces what this would show
            page.acting = number
            await work()
            page.timings["total_ms"] = js.performance.now() - started
            if page.queued == 1:
                status.show_status(page, "ready")
        except Exception as e:  # shown to the user, not swallowed
            status.show_error(page, described(e))
            js.console.error(traceback.format_exc())
        finally:
            page.queued -= 1
            if page.runner is not None:
                for testid in MODEL_BUTTONS:
                    element(testid).disabled = False
            line = element("status")  # a counter of finished actions, for tests and tools
            line.dataset.queued = str(page.queued)
            line.dataset.timings = json.dumps(page.timings)  # ms, for the benchmark
            finished = int(line.getAttribute("data-actions") or 0)  # None before the first
            line.setAttribute("data-actions", str(finished + 1))
