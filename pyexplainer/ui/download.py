"""Downloads in the page: a file's body as it streams in, with failures named."""

from __future__ import annotations

import hashlib

import js  # Pyodide only
from pyodide.ffi import create_proxy, to_js
from pyscript.js_modules import prefetch  # web/prefetch.mjs, which boot.mjs started

from pyexplainer.manifest import ModelFileError, check_digest

HASH_CHUNK = 4 * 2**20  # bytes of a prefetched file hashed at once where JS could not


class BrokenDownload(ModelFileError):
    """A file that stopped arriving: the network went away, or the connection dropped part-way
    (a body short of its Content-Length fails to read). Nothing of it is kept, here or by the
    service worker (build/sw.js), and reading it again may complete it: the page offers Retry.
    `source` names the file."""

    def __init__(self, message: str, source: str):
        super().__init__(message)
        self.source = source


async def _response(url: str):
    try:
        response = await js.fetch(url)
    except Exception as e:  # a JS TypeError: offline, server gone, blocked
        raise BrokenDownload(f"{url} could not be downloaded ({e})", url) from e
    if not response.ok:
        raise ModelFileError(f"{url} could not be downloaded (HTTP {response.status})")
    return response


async def _read(reader, source: str, *args):
    try:
        return await reader.read(*args)
    except Exception as e:  # a JS TypeError: the connection dropped, or the file went away
        raise BrokenDownload(f"reading {source} broke off ({e})", source) from e


async def read_chunks(url: str, on_chunk) -> None:
    """Call on_chunk(js Uint8Array) for each piece of url's body as it arrives."""
    reader = (await _response(url)).body.getReader()
    while not (part := await _read(reader, url)).done:
        on_chunk(part.value)


async def read_into(stream, source: str, size: int, on_chunk):
    """A ReadableStream (a download's body, or a file's) read straight into one JS Uint8Array of
    `size` bytes, calling on_chunk(view) for each piece as it lands: (the array, the stream's
    length). A reader that brings its own buffer ("byob") fills the array in place, so no piece
    is allocated beside it (with a plain reader every piece is a new array: a second copy of the
    body, garbage for the collector to find). A stream longer than `size` is counted, not kept.
    `source` names it in messages."""
    reader = stream.getReader(to_js({"mode": "byob"}, dict_converter=js.Object.fromEntries))
    buffer, received = js.ArrayBuffer.new(size), 0
    while received < size:
        part = await _read(reader, source, js.Uint8Array.new(buffer, received, size - received))
        if part.done:  # shorter than the manifest says: the size check names it
            return None, received
        buffer = part.value.buffer  # each read hands the buffer over and back
        received += part.value.byteLength
        on_chunk(part.value)
    while not (part := await _read(reader, source, js.Uint8Array.new(64 * 1024))).done:
        received += part.value.byteLength
    return js.Uint8Array.new(buffer), received


async def fetch_bytes(url: str) -> bytes:
    """The whole body of url, in Python (small files: manifests, the tokenizer)."""
    chunks = []
    await read_chunks(url, lambda chunk: chunks.append(chunk.to_bytes()))
    return b"".join(chunks)


async def fetch_checked_js(url: str, name: str, manifest, on_progress):
    """url's body as one JS Uint8Array, its size and sha256 checked against the manifest while
    it streams in: the model never lands whole in Python's heap (which never shrinks), nor
    twice in the JS heap."""
    return await read_checked_js((await _response(url)).body, url, name, manifest, on_progress)


async def prefetched(url: str, on_progress=None):
    """What web/prefetch.mjs fetched of url (relative to the page) as the page loaded, taken
    from it: {bytes: JS Uint8Array, sha256: hex, or "" where the browser has no WebCrypto}, or
    None when it holds none (another model, a failed fetch: fetch it as usual). on_progress
    hears how much has arrived while it still arrives."""
    listener = create_proxy(on_progress) if on_progress else None
    try:
        return await prefetch.take(js.URL.new(url, js.location.href).href, listener)
    finally:
        if listener:
            listener.destroy()


def js_sha256(array) -> str:
    """The hex sha256 of a JS Uint8Array, a few MB at a time through Python."""
    digest = hashlib.sha256()
    for start in range(0, array.byteLength, HASH_CHUNK):
        digest.update(array.subarray(start, start + HASH_CHUNK).to_bytes())
    return digest.hexdigest()


def checked_prefetch(taken, name: str, manifest):
    """A prefetched file's bytes (a JS Uint8Array), its size and sha256 checked against the
    manifest as a download's are (check_digest names what differs)."""
    array = taken.bytes
    check_digest(manifest, name, array.byteLength, str(taken.sha256) or js_sha256(array))
    return array


async def read_checked_js(stream, source: str, name: str, manifest, on_progress):
    """fetch_checked_js for any ReadableStream of file `name` (a File's, from the student's
    disk): one JS Uint8Array, checked as it streams in (check_digest names what differs)."""
    digest = hashlib.sha256()
    received = 0

    def take(view) -> None:
        nonlocal received
        digest.update(view.to_bytes())  # a copy of this piece only
        received += view.byteLength
        on_progress(received)

    target, length = await read_into(stream, source, manifest.files[name]["bytes"], take)
    check_digest(manifest, name, length, digest.hexdigest())  # size and sha256, named
    return target
