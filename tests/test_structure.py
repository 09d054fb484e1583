"""The house rules, measured with the project's own imports: no import cycle, `prune/` asks the model (it never
imports `models/` or `experiments/`), `models/` never imports `prune/`, no study imports another, no private
name is imported across modules, and files stay short."""
import ast
import os

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "minidi")
STUDIES = ("isometry", "pai", "retrain", "shedding")
LONG_FILES = {   # the exceptions to the ~300-line rule, and why
    "testing/fakecupy.py": "the strict CuPy stand-in: one class per CuPy concept it imitates, kept together",
}


def _modules():
    out = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
                out[rel[:-len(".__init__")] if rel.endswith(".__init__") else rel] = path
    return out


def _imports(module, path):
    """(imported module, [names]) of every import statement of a module, relative imports resolved."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    package = module if path.endswith("__init__.py") else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            out.append((target, [a.name for a in node.names]))
    return out


MODULES = _modules()


def _resolve(target, names):
    """The minidi modules an import statement reaches: `from minidi.x import y` is minidi.x.y when y is a module."""
    hits = []
    for name in names or [None]:
        if name and f"{target}.{name}" in MODULES:
            hits.append(f"{target}.{name}")
        elif target in MODULES:
            hits.append(target)
    return hits


def _graph(top_level_only):
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(open(path, encoding="utf-8").read())
        top = {id(n) for n in tree.body}
        edges = set()
        for node, (target, names) in zip([n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))],
                                         _imports(module, path)):
            if top_level_only and id(node) not in top:
                continue
            edges.update(h for h in _resolve(target, names) if h != module)
        graph[module] = edges
    return graph


def test_no_import_cycle_at_module_level():
    graph = _graph(top_level_only=True)
    state = {}

    def visit(m, stack):
        state[m] = "open"
        for n in graph.get(m, ()):
            if n.startswith(m + "."):
                continue                           # a package importing its own submodules is not a cycle
            if state.get(n) == "open" and not m.startswith(n + "."):
                pytest.fail(f"import cycle: {' -> '.join(stack + [n])}")
            if n not in state:
                visit(n, stack + [n])
        state[m] = "done"
    for m in graph:
        if m not in state:
            visit(m, [m])


@pytest.mark.parametrize("downstream, upstream", [("minidi.prune", "minidi.models"), ("minidi.prune", "minidi.experiments"),
                                                  ("minidi.models", "minidi.prune"), ("minidi.nn", "minidi.models"),
                                                  ("minidi.nn", "minidi.prune")])
def test_no_arrow_runs_back_up(downstream, upstream):
    graph = _graph(top_level_only=False)                  # lazy imports inside functions count too
    bad = [(m, n) for m, edges in graph.items() if m.startswith(downstream) for n in edges if n.startswith(upstream)]
    assert not bad, bad


def test_no_study_imports_another():
    graph = _graph(top_level_only=False)
    bad = []
    for study in STUDIES:
        own = f"minidi.experiments.{study}"
        for m, edges in graph.items():
            if m == own or m.startswith(own + "."):
                bad += [(m, n) for n in edges for other in STUDIES
                        if other != study and (n == f"minidi.experiments.{other}" or n.startswith(f"minidi.experiments.{other}."))]
    assert not bad, bad


def test_no_private_name_is_imported_across_modules():
    bad = []
    for module, path in MODULES.items():
        for target, names in _imports(module, path):
            if target and target.startswith("minidi"):
                bad += [(module, target, n) for n in names if n.startswith("_") and not n.startswith("__")]
    assert not bad, bad


def test_files_stay_short():
    long = {os.path.relpath(p, ROOT): sum(1 for _ in open(p, encoding="utf-8")) for p in MODULES.values()}
    over = {k: n for k, n in long.items() if n > 300 and k not in LONG_FILES}
    assert not over, over
