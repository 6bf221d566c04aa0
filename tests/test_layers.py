"""The helper package in layers: no module imports one above it, and there is no circle.

Every module of ``course_utils`` is declared in :data:`LAYERS`, lowest first. A module may import
only modules of a strictly lower layer (a package's ``__init__`` sits above its own submodules).
The imports are read from the source with :mod:`ast`, including those inside functions, which
Python would only meet when the function runs. A new module must be given a layer here (see
CONTRIBUTING.md), and a new upward import fails this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "course_utils"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

#: Lowest first. Names are relative to ``course_utils``; "" is the package itself (its
#: ``__init__``, which every import of a submodule runs first).
LAYERS: list[tuple[str, ...]] = [
    # plumbing every notebook uses
    ("paths",),
    ("compat",),
    ("report",),
    ("distribute",),
    ("runtime",),
    ("",),
    # what the notebooks teach: maths and metrics written from scratch
    ("boxes", "conv", "degrade", "diffusion", "shapes", "viz",
     "metrics.generative", "metrics.image", "metrics.segmentation", "metrics.text", "metrics.verification"),
    ("faces", "metrics.detection", "sequences"),
    ("metrics",),
    # data: the registry and the download, the formats, the offline fallbacks, the loaders
    ("data.registry", "data.idx", "data.photos"),
    ("data.download",),
    ("data.offline",),
    ("data.mnist", "data.cifar", "data.pets", "data.lfw"),
    ("data",),
    # the committed weights on disk
    ("weights",),
    # models the notebooks share
    ("classifier", "restoration"),
    # exercise checkers
    ("exercises._check",),
    ("exercises.nb01", "exercises.nb02", "exercises.nb03", "exercises.nb04", "exercises.nb05",
     "exercises.nb06", "exercises.nb07", "exercises.nb08", "exercises.nb09", "exercises.nb10", "exercises.nb11"),
    ("exercises",),
    # the course weights: the shared training loop, the recipes, the by-name entry points
    ("training",),
    ("recipes.judge", "recipes.restoration"),
    ("recipes.diffusion", "recipes.gan"),
    ("recipes",),
    # command lines
    ("colab", "pretrain", "runner"),
    ("slides",),  # reads the Colab setup cell's marker from colab
    ("__main__",),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The ``course_utils`` modules that ``path`` imports anywhere in its source, relative names."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def imports_in(source: str, name: str, is_package: bool = False) -> set[str]:
    """The ``course_utils`` modules imported by ``source``, the module ``name`` (relative), anywhere in it."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join([PACKAGE, *base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [(module, a.name) for a in node.names]
        else:
            continue
        for module, member in targets:
            if module != PACKAGE and not module.startswith(PACKAGE + "."):
                continue
            relative = module[len(PACKAGE) + 1:]
            if member is not None:  # `from course_utils.x import y`: y may be a module itself
                candidate = f"{relative}.{member}" if relative else member
                if candidate in MODULES:
                    relative = candidate
            found.add(relative)
    found.discard(name)
    return found


MODULES = {module_name(p) for p in ROOT.rglob("*.py")}
LAYER_OF = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def test_every_module_has_a_layer():
    undeclared = sorted(MODULES - set(LAYER_OF))
    assert not undeclared, f"declare the layer of {undeclared} in tests/test_layers.py (see CONTRIBUTING.md)"
    assert not set(LAYER_OF) - MODULES, f"LAYERS names modules that do not exist: {sorted(set(LAYER_OF) - MODULES)}"
    assert len(LAYER_OF) == sum(map(len, LAYERS)), "a module is declared twice"


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: module_name(p) or "__init__")
def test_no_module_imports_one_above_it(path):
    name = module_name(path)
    if name not in LAYER_OF:
        pytest.skip("undeclared: see test_every_module_has_a_layer")
    upward = sorted(m for m in imports_of(path) if LAYER_OF.get(m, -1) >= LAYER_OF[name])
    assert not upward, (f"course_utils.{name or '__init__'} (layer {LAYER_OF[name]}) imports "
                        + ", ".join(f"{m or 'course_utils'} (layer {LAYER_OF.get(m)})" for m in upward))


def test_the_import_graph_has_no_circle():
    graph = {module_name(p): imports_of(p) for p in ROOT.rglob("*.py")}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_the_reader_sees_imports_inside_functions():
    # The check must not depend on import time: an import hidden in a function body counts, in
    # every spelling, and a name imported from a package counts as its submodule when it is one.
    source = ("import json\n"
              "def later():\n"
              "    from . import pretrain\n"
              "    from .data import load_mnist\n"
              "    import course_utils.recipes.gan\n"
              "    from course_utils.recipes import judge\n")
    assert imports_in(source, "classifier") == {"pretrain", "data", "recipes.gan", "recipes.judge"}
    nested = "def f():\n    if True:\n        from ..runner import main\n        from . import _check\n"
    assert imports_in(nested, "exercises.nb01") == {"runner", "exercises._check"}
    assert imports_in(nested, "exercises", is_package=True) == {"exercises._check", "runner"}
    upward = {m for m in imports_in(source, "classifier") if LAYER_OF[m] >= LAYER_OF["classifier"]}
    assert upward == {"pretrain", "recipes.gan", "recipes.judge"}
