"""Memory, which (unlike timing) a loaded machine does not blur: the peak resident set of each
Chromium process under this one, read from /proc, and the page's peak JS heap, sampled on its
main thread."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from pathlib import Path

# Peak of performance.memory.usedJSHeapSize, sampled every 50 ms on the page's main thread (an
# init script: it runs in every page before the page's own scripts).
JS_HEAP_SAMPLER = """(() => {
  let peak = 0;
  const sample = () => (peak = Math.max(peak, performance.memory.usedJSHeapSize));
  setInterval(sample, 50);
  window.pyexplainerBenchPeakHeap = sample;
})();"""


# Every WebAssembly memory the page makes (an init script): Pyodide's, exported by its module
# (named by the .wasm file's path), and onnxruntime-web's, which its threaded build creates as a
# shared memory. A WebAssembly memory never shrinks, so its size at the end is its peak.
WASM_MEMORIES = """(() => {
  const memories = [];
  const keep = (memory, label) => {
    if (memory instanceof NativeMemory && !memories.some((m) => m.memory === memory)) {
      memories.push({ memory, label });
    }
  };
  const NativeMemory = WebAssembly.Memory;
  WebAssembly.Memory = function (descriptor) {
    const memory = new NativeMemory(descriptor);
    keep(memory, descriptor && descriptor.shared ? "shared memory" : "memory");
    return memory;
  };
  WebAssembly.Memory.prototype = NativeMemory.prototype;
  const exported = (result, label) => {
    const instance = result.instance ?? result;
    for (const value of Object.values(instance.exports ?? {})) keep(value, label);
    return result;
  };
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = (source, imports) =>
    instantiate(source, imports).then((result) => exported(result, "module"));
  const streaming = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = async (source, imports) => {
    const response = await source;
    return exported(await streaming(response, imports), new URL(response.url).pathname);
  };
  window.pyexplainerBenchWasmMemories = () =>
    memories.map(({ memory, label }) => ({ label, bytes: memory.buffer.byteLength }));
})();"""


def wasm_memories(page) -> list[dict]:
    """[{label, bytes}] of every WebAssembly memory WASM_MEMORIES has seen on the page."""
    return page.evaluate("window.pyexplainerBenchWasmMemories()")


def peak_js_heap(page) -> int:
    """The largest JS heap JS_HEAP_SAMPLER has seen on the page so far, in bytes."""
    return int(page.evaluate("window.pyexplainerBenchPeakHeap()"))


def _children() -> dict[int, list[int]]:
    """Parent pid -> its child pids, for every process now."""
    children = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            parent = int(stat.rsplit(")", 1)[1].split()[1])  # after "pid (name) state"
            children[parent].append(int(entry.name))
    return children


def descendants(root: int) -> set[int]:
    children, found, todo = _children(), set(), [root]
    while todo:
        new = children.get(todo.pop(), [])
        found.update(new)
        todo.extend(new)
    return found


def chromium_process_type(cmdline: str) -> str | None:
    """'browser', 'renderer', 'gpu-process', ... for a /proc/PID/cmdline text, else None.

    Chromium's child processes rewrite their command line into one space-separated string.
    """
    args = cmdline.replace("\0", " ").split()
    if not args or Path(args[0]).name != "chromium":
        return None
    return next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")


def peak_resident_bytes(status_text: str) -> int:
    """VmHWM of a /proc/PID/status text, in bytes (0 when absent: a zombie)."""
    for line in status_text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class MemoryMonitor:
    """Peak resident memory of the Chromium processes under this one, read from /proc."""

    def __init__(self, interval_s: float = 0.5):
        self.interval_s = interval_s
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (process type, VmHWM)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> MemoryMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def sample(self) -> None:
        """Read every process now (VmHWM only grows, so a last read before a close suffices)."""
        for pid in descendants(os.getpid()):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                kind = chromium_process_type(cmdline)
                if kind:
                    peak = peak_resident_bytes(Path(f"/proc/{pid}/status").read_text())
                    self.peaks[pid] = (kind, max(peak, self.peaks.get(pid, ("", 0))[1]))
            except OSError:
                continue  # gone meanwhile

    def peak_by_type(self) -> dict[str, int]:
        peaks: dict[str, int] = {}
        for kind, peak in self.peaks.values():
            peaks[kind] = max(peak, peaks.get(kind, 0))
        return dict(sorted(peaks.items()))
