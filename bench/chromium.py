"""The browser the benchmark, the smoke test and the browser tests launch: Debian's Chromium,
through Playwright (never `playwright install`), with the flags of each backend."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BACKEND_FLAGS = {
    "wasm": ["--disable-gpu"],
    # Chromium's software adapter where the machine has no GPU (here: correctness, not speed)
    "webgpu": [
        "--enable-unsafe-webgpu",
        "--use-webgpu-adapter=swiftshader",
        "--enable-features=Vulkan",
    ],
}
BENCH_FLAGS = ["--enable-precise-memory-info"]  # performance.memory unrounded
GPU_ADAPTER = """async () => {
  const adapter = navigator.gpu && (await navigator.gpu.requestAdapter());
  return adapter ? `${adapter.info.vendor} ${adapter.info.architecture}`.trim() : null;
}"""


def launch(playwright, chromium: Path, backend: str, extra_flags=BENCH_FLAGS):
    """A headless Chromium on `backend` ("wasm" or "webgpu"), with the benchmark's extra flags
    unless told otherwise (the smoke test has none)."""
    return playwright.chromium.launch(
        executable_path=str(chromium),
        args=[*CHROMIUM_FLAGS, *BACKEND_FLAGS[backend], *extra_flags],
        timeout=60_000,
    )
