"""The house rules, measured with the project's own imports: the science (engine, data, training, pruning,
measurement, recovery, theory) never imports the machinery wing (`lab/`), the CLI or the studies; the machinery
never imports the CLI or a study; no import cycle; `prune/` asks the model (it never imports `models/`),
`models/` never imports `prune/`; no study imports another; no private name is imported across modules; the
top level holds few modules; files and functions stay short."""
import ast
import os

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "minidi")
STUDIES = ("isometry", "pai", "retrain", "shedding")
SCIENCE = ("minidi.backend", "minidi.errors", "minidi.files", "minidi.limits", "minidi.optim", "minidi.nn",
           "minidi.models", "minidi.data", "minidi.schedules", "minidi.train", "minidi.prune", "minidi.measure",
           "minidi.recover", "minidi.theory")
MACHINERY = ("minidi.lab",)
ABOVE_SCIENCE = ("minidi.lab", "minidi.cli", "minidi.experiments")
MAX_TOP_MODULES = 10
MAX_FUNCTION_LINES = 52          # "about one screen"; testing/ (the CuPy stand-in) is exempt
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


def _within(module, packages):
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_science_never_imports_the_machinery_the_cli_or_a_study():
    graph = _graph(top_level_only=False)                  # lazy imports inside functions count too
    bad = [(m, n) for m, edges in graph.items() if _within(m, SCIENCE) for n in edges if _within(n, ABOVE_SCIENCE)]
    assert not bad, bad


def test_the_machinery_never_imports_the_cli_or_a_study():
    graph = _graph(top_level_only=False)
    bad = [(m, n) for m, edges in graph.items() if _within(m, MACHINERY)
           for n in edges if _within(n, ("minidi.cli", "minidi.experiments"))]
    assert not bad, bad


def test_the_studies_never_import_the_cli():
    graph = _graph(top_level_only=False)
    bad = [(m, n) for m, edges in graph.items() if _within(m, ("minidi.experiments",)) for n in edges
           if _within(n, ("minidi.cli",))]
    assert not bad, bad


def test_every_module_is_science_machinery_cli_or_study():
    """A new module must take a side, so that a reader can tell by its name whether to skip it."""
    sides = SCIENCE + ABOVE_SCIENCE + ("minidi.testing",)
    stray = [m for m in MODULES if m != "minidi" and not _within(m, sides)]
    assert not stray, stray


def test_the_top_level_holds_few_modules():
    top = [name for name in os.listdir(ROOT) if name.endswith(".py") and name != "__init__.py"]
    assert len(top) <= MAX_TOP_MODULES, sorted(top)


def test_functions_stay_short():
    long = []
    for module, path in MODULES.items():
        if module.startswith("minidi.testing"):
            continue
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append((module, node.name, n))
    assert not long, long


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


def _reading_order():
    import minidi
    doc = minidi.__doc__
    block = doc[doc.index("    the science"):doc.index("\nArrows point")].rstrip("\n")
    return "\n".join(line[4:] if line.startswith("    ") else line for line in block.split("\n"))


@pytest.mark.parametrize("page", ["README.md", "docs/theory_to_code.md"])
def test_the_reading_order_is_stated_once_and_quoted(page):
    text = open(os.path.join(os.path.dirname(ROOT), page), encoding="utf-8").read()
    assert _reading_order() in text, f"{page} does not quote the package docstring's reading order"


def test_the_reading_order_names_every_package_and_top_module():
    order = _reading_order()
    names = [n for n in os.listdir(ROOT) if not n.startswith(("_", "."))
             and (n.endswith(".py") or os.path.isdir(os.path.join(ROOT, n)))]
    missing = [n for n in names if (n if n.endswith(".py") else n + "/") not in order]
    assert not missing, missing
