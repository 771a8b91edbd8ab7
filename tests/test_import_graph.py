"""The package's import graph: no cycles, no arrow from a lower layer up, no hidden imports.

Reads every module of ``src/exprlab`` with :mod:`ast` (nothing is imported), resolves each
``import`` to the exprlab module it names, and checks the rules of CONTRIBUTING.md:

* no cycle between modules, and none between packages (the unit of a layer);
* every arrow goes from a layer to the same or a lower one (``LAYERS`` below);
* imports sit at module top, except an optional or heavy third-party dependency imported where it
  is used, with a one-line reason as a comment on that line or the line above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "exprlab"

# Lowest first. A unit is a top-level module or subpackage of exprlab (private ones included).
LAYERS: list[set[str]] = [
    {
        "__init__",
        "errors",
        "_validation",
        "_config",
        "_defaults",
        "_atomic",
        "_progress",
        "_logging",
        "_runs",
        "_faces",
        "_outputs",
        "_drug_names",
    },
    {"io"},
    {"genes", "drugs"},
    {"signatures", "evaluate"},
    {"match", "models", "simulate"},
    {"explain"},
    {"datasets"},
    {"report"},
    {"workflows"},
    {"cli", "__main__"},
]
# Third-party modules that may be imported inside a function (heavy to import or optional).
LAZY_ALLOWED = {
    "torch",
    "dask",
    "distributed",
    "matplotlib",
    "numba",
    "captum",
    "sklearn",
    "pyarrow",
    "pooch",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The exprlab module that ``target`` (a dotted name, maybe module.attribute) refers to."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def _imports(path: Path, name: str, modules: dict[str, Path]):
    """Yield (imported module, is_top_level, node) for every exprlab import of one module."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [f"{base}.{a.name}" for a in node.names] if base else []
        else:
            continue
        for t in targets:
            yield t, id(node) in top_level or _in_type_checking(tree, node), node


def _in_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
            if any(n is node for n in ast.walk(stmt)):
                return True
    return False


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph():
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, _, _ in _imports(path, name, modules):
            if not target.startswith("exprlab"):
                continue
            dep = _resolve(target, modules)
            if dep and dep != name and not name.startswith(dep + ".") and dep != "exprlab":
                edges[name].add(dep)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_walker_sees_the_package():
    modules = _modules()
    assert "exprlab.errors" in modules and "exprlab.match" in modules
    edges = _graph()
    assert any(edges.values()), "no import found: the walker is broken"


def test_no_cycle_between_modules():
    cycles = _cycles(_graph())
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def test_no_cycle_between_packages():
    units: dict[str, set[str]] = {}
    for src, deps in _graph().items():
        units.setdefault(_unit(src), set()).update(_unit(d) for d in deps if _unit(d) != _unit(src))
    cycles = _cycles(units)
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def test_cycle_detector_finds_a_planted_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_unit_has_a_layer():
    layer_of = {u: i for i, layer in enumerate(LAYERS) for u in layer}
    missing = sorted({_unit(m) for m in _modules()} - set(layer_of))
    assert missing == [], f"add these to LAYERS: {missing}"


def test_no_arrow_runs_up_a_layer():
    layer_of = {u: i for i, layer in enumerate(LAYERS) for u in layer}
    upward = [
        f"{src} -> {dep}"
        for src, deps in _graph().items()
        for dep in deps
        if layer_of.get(_unit(dep), -1) > layer_of.get(_unit(src), 99)
    ]
    assert not upward, "\n".join(sorted(upward))


def test_function_local_imports_are_optional_heavy_dependencies_with_a_reason():
    modules = _modules()
    bad = []
    for name, path in modules.items():
        lines = path.read_text().splitlines()
        for target, top, node in _imports(path, name, modules):
            if top:
                continue
            root = target.split(".")[0]
            line = lines[node.lineno - 1]
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            reason = "#" in line or above.startswith("#")
            # The CLI defers its workflows so that `exprlab --help` does not load torch.
            deferred_cli = _unit(name) == "cli" and root == "exprlab"
            if not reason or (root not in LAZY_ALLOWED and not deferred_cli):
                bad.append(f"{path.relative_to(SRC.parent)}:{node.lineno} {target}")
    assert not bad, f"{len(set(bad))} imports:\n" + "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("unit", sorted({u for layer in LAYERS for u in layer}))
def test_layers_name_real_units(unit):
    assert (SRC / f"{unit}.py").exists() or (SRC / unit).is_dir()


def test_packages_meet_through_their_faces():
    """No module imports another package's private module (``exprlab.match._wtcs`` from io ...).

    Layer-0 private modules (``exprlab._validation`` ...) are shared by design; a package's own
    private modules are its business.
    """
    modules = _modules()
    bad = []
    for name, path in modules.items():
        for target, _, node in _imports(path, name, modules):
            parts = target.split(".")
            if (
                len(parts) >= 3
                and parts[0] == "exprlab"
                and parts[2].startswith("_")
                and parts[1] != _unit(name)
            ):
                if (SRC / parts[1]).is_dir():
                    bad.append(f"{path.relative_to(SRC.parent)}:{node.lineno} {target}")
    assert not bad, "\n".join(sorted(set(bad)))
