"""The house rules of the package layout: imports only go down the pipeline, and no cycle."""

import ast
from pathlib import Path

import workout_classifier

PKG = Path(workout_classifier.__file__).parent
# Lower number = earlier stage. A module may import its own layer and the ones below.
LAYERS = {
    "_quiet": 0, "frames": 0, "pose": 1, "learn": 2, "analysis": 3, "predict": 4, "annotate": 5,
    "live": 6, "api": 7, "serve": 8, "cli": 9,
}  # fmt: skip


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PKG.parent).with_suffix("").parts).removesuffix(".__init__"): p
            for p in PKG.rglob("*.py")}  # fmt: skip


def _imports(path: Path) -> set[str]:
    """Every workout_classifier module a file imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("workout_classifier")}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("workout_classifier")
        ):
            mods = _modules()
            for a in node.names:  # `from workout_classifier.pose import cache` imports a module
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in mods else node.module)
    return out


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_every_top_level_name_has_a_layer():
    top = {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"}
    top |= {p.name for p in PKG.iterdir() if (p / "__init__.py").is_file()}
    assert top <= set(LAYERS), f"give these a layer: {top - set(LAYERS)}"
    assert len([p for p in PKG.glob("*.py")]) <= 6  # the rest lives in stage packages


def test_imports_only_go_down():
    upward = []
    for mod, path in _modules().items():
        for dep in _imports(path):
            if dep == "workout_classifier":  # the root package: only __version__ is read from it
                continue
            if _layer(mod) is not None and _layer(dep) > _layer(mod):
                upward.append(f"{mod} -> {dep}")
    assert not upward


def test_no_import_cycle():
    graph = {
        m: {d for d in _imports(p) if d != "workout_classifier"} for m, p in _modules().items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(m, stack):
        state[m] = 1
        for d in graph.get(m, ()):
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d) :] + [d]))
            elif d in graph and not state.get(d):
                visit(d, stack + [d])
        state[m] = 2

    for m in graph:
        if not state.get(m):
            visit(m, [m])
    assert not cycles


def test_root_package_is_light():
    # `import workout_classifier` must not load the stages (the CLI and server start fast).
    import subprocess
    import sys

    code = "import sys, workout_classifier; print(sorted(m for m in sys.modules if m.startswith('workout_classifier')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['workout_classifier', 'workout_classifier._quiet']"
