"""The import graph of pyexplainer/, bench/ and export/, read with `ast`: no circles, and no module
of the shipped package imports one of a higher layer.

Every import counts, at module level, inside a function, or under TYPE_CHECKING: each one is a
dependency a reader has to follow. An import of `a.b.c` is an arrow to the module a.b.c only, not
to the packages a and a.b, whose __init__ runs first (otherwise every package whose __init__
imports one of its modules would be a circle).

The layers of the package, lowest first; a module may import its own layer and those below:
- base: the package's __init__, config.py (the model's hyper-parameters), messages.py and
  messages_zh.py (the catalogues), examples.py (the example prompts), weights_file.py (the
  weights file's layout): what everything reads and which imports nothing of the package above.
- core: pure numpy, the model's arithmetic.
- model: manifest.py (an exported model's files, checked), runtime/ (where inference runs) and
  model_dir.py (a model folder opened in CPython): the model as files and sessions, which the
  views' and the page's model lists read.
- views: plain data for each panel.
- ui: drawing those as HTML, SVG and canvas.
- page: events, the page state and the redraws.
- cli: __main__.py and serve.py, the command line around all of it; the only part of the package
  that may import bench/ (`python -m pyexplainer bench` runs the benchmark of the checkout).
bench/ and export/ stand outside the package: they may import its modules, except ui/ and page/
(which need Pyodide), and the package imports neither of them, but from its command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("pyexplainer", "bench", "export")
LAYERS = ("base", "core", "model", "views", "ui", "page", "cli")
LAYER_OF_MODULE = {
    "pyexplainer": "base",
    "pyexplainer.config": "base",
    "pyexplainer.messages": "base",
    "pyexplainer.messages_zh": "base",
    "pyexplainer.weights_file": "base",
    "pyexplainer.examples": "base",
    "pyexplainer.manifest": "model",
    "pyexplainer.model_dir": "model",
    "pyexplainer.__main__": "cli",
    "pyexplainer.serve": "cli",
}
LAYER_OF_PACKAGE = {
    "core": "core",
    "runtime": "model",
    "views": "views",
    "ui": "ui",
    "page": "page",
}
PYODIDE_ONLY = ("pyexplainer.ui", "pyexplainer.page")


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module of `packages` under `root` by its dotted name (a package by its own name)."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imported_names(module: str, path: Path) -> list[tuple[str, str | None]]:
    """What `module` imports anywhere in its file, relative imports resolved: (name, None) for
    `import name`, (source, name) for `from source import name`."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            names += [(source, alias.name) for alias in node.names]
    return names


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module -> the project's modules it imports. `from a import b` is an import of the module
    a.b when there is one, else of a; a name is cut back to the longest project module it starts
    with (a.b.f: a.b); imports of outside libraries and of the module itself are left out."""
    files = module_files(root, packages)

    def project_module(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in files.items():
        targets = set()
        for source, name in imported_names(module, path):
            inner = f"{source}.{name}" if name else source
            targets.add(project_module(inner if inner in files else source))
        graph[module] = targets - {None, module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another round a circle (the strongly connected
    components of more than one module, Tarjan's algorithm), each sorted, the list sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def layer(module: str) -> str | None:
    """The package layer of a module of pyexplainer (see the docstring); None outside it."""
    if module in LAYER_OF_MODULE:
        return LAYER_OF_MODULE[module]
    parts = module.split(".")
    if parts[0] != "pyexplainer":
        return None
    return LAYER_OF_PACKAGE[parts[1]]


def arrows_up(graph: dict[str, set[str]]) -> list[str]:
    """Each import that breaks the layering, as "importer -> imported"."""
    wrong = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = layer(module), layer(target)
            if here is not None and there is not None:
                up = LAYERS.index(there) > LAYERS.index(here)
            elif here is None:  # bench/ or export/: anything of the package but the browser's
                up = target.startswith(PYODIDE_ONLY)
            else:  # the package importing bench/ or export/
                up = here != "cli"
            if up:
                wrong.append(f"{module} -> {target}")
    return wrong


def test_every_module_of_the_package_has_a_layer():
    for module in module_files(ROOT, ("pyexplainer",)):
        assert layer(module) in LAYERS, module


def test_the_project_has_no_import_circle():
    assert circles(import_graph(ROOT, PROJECT)) == []


def test_no_import_runs_up_the_layers():
    assert arrows_up(import_graph(ROOT, PROJECT)) == []


def write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def test_the_graph_finds_a_circle_through_a_relative_and_a_late_import(tmp_path):
    """An independent check of the reader on a tree whose graph is known: a -> b (relative),
    b -> c inside a function, c -> a through `from pkg import a`; d imports the package only."""
    write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg import d\n",
            "pkg/a.py": "from . import b\nimport numpy\n",
            "pkg/b.py": "def late():\n    from pkg.c import thing\n",
            "pkg/c.py": "from pkg import a\nthing = 1\n",
            "pkg/d.py": "import pkg\nfrom pkg.sub import e\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/e.py": "from .. import d\n",
        },
    )
    graph = import_graph(tmp_path, ("pkg",))
    assert graph == {
        "pkg": {"pkg.d"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.c"},
        "pkg.c": {"pkg.a"},
        "pkg.d": {"pkg", "pkg.sub.e"},
        "pkg.sub": set(),
        "pkg.sub.e": {"pkg.d"},
    }
    assert circles(graph) == [["pkg", "pkg.d", "pkg.sub.e"], ["pkg.a", "pkg.b", "pkg.c"]]


def test_an_import_up_the_layers_is_named():
    graph = {
        "pyexplainer.views.tokens": {"pyexplainer.ui.dom", "pyexplainer.core.tokenizer"},
        "pyexplainer.core.trace": {"pyexplainer.manifest"},
        "pyexplainer.page.start": {"pyexplainer.ui.dom", "bench.page"},
        "pyexplainer.__main__": {"bench.browser"},
        "bench.page": {"pyexplainer.page.status", "pyexplainer.views.predictions"},
        "export.export": {"pyexplainer.runtime.weights", "pyexplainer.manifest"},
    }
    assert arrows_up(graph) == [
        "bench.page -> pyexplainer.page.status",
        "pyexplainer.core.trace -> pyexplainer.manifest",
        "pyexplainer.page.start -> bench.page",
        "pyexplainer.views.tokens -> pyexplainer.ui.dom",
    ]
