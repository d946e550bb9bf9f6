"""Downloads in the page: a file's body as it streams in, with failures named."""

from __future__ import annotations

import hashlib

import js  # Pyodide only

from pyexplainer.manifest import ModelFileError, check_digest


async def read_chunks(url: str, on_chunk) -> None:
    """Call on_chunk(js Uint8Array) for each piece of url's body as it arrives."""
    try:
        response = await js.fetch(url)
    except Exception as e:  # a JS TypeError: offline, server gone, blocked
        raise ModelFileError(f"{url} could not be downloaded ({e})") from e
    if not response.ok:
        raise ModelFileError(f"{url} could not be downloaded (HTTP {response.status})")
    reader = response.body.getReader()
    while True:
        try:
            part = await reader.read()
        except Exception as e:
            raise ModelFileError(f"the download of {url} broke off ({e})") from e
        if part.done:
            return
        on_chunk(part.value)


async def fetch_bytes(url: str) -> bytes:
    """The whole body of url, in Python (small files: manifests, the tokenizer)."""
    chunks = []
    await read_chunks(url, lambda chunk: chunks.append(chunk.to_bytes()))
    return b"".join(chunks)


async def fetch_checked_js(url: str, name: str, manifest, on_progress):
    """url's body as one JS Uint8Array, its size and sha256 checked against the manifest while
    it streams in: the model never lands whole in Python's heap (which never shrinks)."""
    total = manifest.files[name]["bytes"]
    target = js.Uint8Array.new(total)
    digest = hashlib.sha256()
    received = 0

    def take(chunk) -> None:
        nonlocal received
        digest.update(chunk.to_bytes())  # a copy of this piece only
        if received + chunk.length <= total:
            target.set(chunk, received)
        received += chunk.length
        on_progress(received)

    await read_chunks(url, take)
    check_digest(manifest, name, received, digest.hexdigest())  # size and sha256, named
    return target
