"""Where a model's files come from: the site (models/<name>/, fetched) or a folder on the
student's own disk (File objects, read in the tab: nothing is uploaded). Both hand the page the
same bytes to check against the manifest (Page.open_model), so a folder from disk is checked
exactly as the site's models are."""

from __future__ import annotations

import hashlib

from pyexplainer.manifest import ModelFileError
from pyexplainer.ui.download import (
    checked_prefetch,
    fetch_bytes,
    fetch_checked_js,
    prefetched,
    read_checked_js,
)


class SiteModel:
    """A model of the site, by its entry in models/index.json."""

    from_disk = False

    def __init__(self, entry: dict):
        self.entry = entry
        self.name = entry["name"]
        self.base = entry["path"]

    async def manifest_bytes(self) -> bytes:
        """manifest.json, whose sha256 models/index.json pins."""
        raw = await fetch_bytes(self.base + "manifest.json")
        if hashlib.sha256(raw).hexdigest() != self.entry["manifest_sha256"]:
            raise ModelFileError(
                f"{self.base}manifest.json is corrupt: its sha256 differs from models/index.json's"
            )
        return raw

    async def read(self, name: str) -> bytes:
        """A small file (the tokenizer's): the page's prefetch of it, else downloaded."""
        taken = await prefetched(self.base + name)
        if taken is not None:
            return taken.bytes.to_bytes()
        return await fetch_bytes(self.base + name)

    async def read_js(self, name: str, manifest, on_progress):
        """A model file as a JS Uint8Array, checked: the page's prefetch of it, else
        downloaded."""
        taken = await prefetched(self.base + name, on_progress)
        if taken is not None:
            return checked_prefetch(taken, name, manifest)
        return await fetch_checked_js(self.base + name, name, manifest, on_progress)


class DiskModel:
    """An exported model folder the student opened: {file name: File} of the folder that holds
    manifest.json (views.models.model_folder chose it)."""

    from_disk = True

    def __init__(self, folder: str, files: dict):
        self.folder = folder
        self.files = files
        self.name = ""  # the manifest's, once read (Page.open_model)

    def file(self, name: str):
        if name not in self.files:
            raise ModelFileError(
                f"{name} is missing from the folder {self.folder or '.'!r} "
                "(its manifest.json lists it)"
            )
        return self.files[name]

    async def manifest_bytes(self) -> bytes:
        return await self.read("manifest.json")

    async def read(self, name: str) -> bytes:
        return (await self.file(name).arrayBuffer()).to_bytes()

    async def read_js(self, name: str, manifest, on_progress):
        stream = self.file(name).stream()
        return await read_checked_js(stream, f"{self.folder}/{name}", name, manifest, on_progress)
