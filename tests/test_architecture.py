"""Imports run one way (DESIGN.md invariant 10; the picture is docs/architecture.md).

The import graph of the product packages is read from the source with `ast` (module-level,
function-level and `if TYPE_CHECKING:` imports alike: a deferred import is still a dependency),
and the test fails on:
1. an import circle: any strongly connected component of two or more modules, shown as a path;
2. a forbidden direction (RULES below): pages or findings/reports reaching `op` directly, `op`
   reaching the database models, domain code importing the Celery task wrappers that call it
   (it enqueues by name through openclaw_web/dispatch.py instead), anything but URL confs
   importing views, the fake `op` leaning on product code;
3. the fake `op` needing Django at run time (it starts as a bare Python process per call).

The self-checks at the end feed the same functions a small synthetic tree with planted faults
(and a clean one), so a builder that silently sees nothing cannot pass.
"""

from __future__ import annotations

import ast
import functools
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("vaults", "compliance", "openclaw_web")

# (importer, imported) pairs exempt from every check here. Keep it empty: fix the import instead.
ALLOWED: frozenset[tuple[str, str]] = frozenset()

# The fake `op` picks the two items of a planted reused secret with the real copies rule, so the
# demo's manifest and the findings engine cannot disagree about what "the same service" means. The
# rule is pure (no Django at run time: test_the_fake_op_runs_without_django holds it to that).
FAKE_OP_MAY_IMPORT = frozenset({"vaults.findings.copies"})


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str  # a product module when it resolves to one, else the dotted name as written
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`: never executed
    deferred: bool  # inside a function: executed when it is called, not when the module loads

    def __str__(self) -> str:
        how = ", TYPE_CHECKING" if self.type_only else ", in a function" if self.deferred else ""
        return f"{self.importer} -> {self.imported} (line {self.line}{how})"


@dataclass(frozen=True)
class ImportGraph:
    modules: dict[str, Path]
    edges: list[Edge]

    def internal(self) -> list[Edge]:
        return [e for e in self.edges if e.imported in self.modules and (e.importer, e.imported) not in ALLOWED]


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking_guard(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


ImportNode = ast.Import | ast.ImportFrom
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _imports(tree: ast.AST) -> Iterable[tuple[ImportNode, bool, bool]]:
    """Every import statement anywhere in the module, with whether it sits under TYPE_CHECKING
    and whether it is deferred (inside a function: it runs when the function is called)."""

    def visit(node: ast.AST, type_only: bool, deferred: bool) -> Iterable[tuple[ImportNode, bool, bool]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, type_only, deferred
        deferred = deferred or isinstance(node, FUNCTIONS)
        if isinstance(node, ast.If) and _is_type_checking_guard(node):
            for child in node.body:
                yield from visit(child, True, deferred)
            for child in node.orelse:
                yield from visit(child, type_only, deferred)
            return
        for inner in ast.iter_child_nodes(node):
            yield from visit(inner, type_only, deferred)

    return visit(tree, False, False)


def _absolute_base(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = importer.split(".") if is_package else importer.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def build_graph(root: Path, packages: Sequence[str]) -> ImportGraph:
    """Read every .py file of the packages under root into modules and import edges.

    `from a.b import c` points at module a.b.c when that is a module of the tree (a submodule
    imported by name), else at a.b (a name defined there). Parent packages that Python also runs
    are not edges: `__init__` importing its own submodules would otherwise be a circle of every
    package with its children.
    """
    paths = sorted(p for package in packages for p in (root / package).rglob("*.py"))
    modules = {_module_name(root, p): p for p in paths}
    edges: list[Edge] = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node, type_only, deferred in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _absolute_base(name, is_package, node)
                targets = []
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in modules or base not in modules:
                        targets.append(submodule)  # a product submodule, or an outside name (django.db.models)
                    else:
                        targets.append(base)
            edges.extend(Edge(name, target, node.lineno, type_only, deferred) for target in dict.fromkeys(targets))
    return ImportGraph(modules, edges)


def _strongly_connected(nodes: Iterable[str], successors: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph is a few hundred modules, recursion would do too)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(successors.get(start, [])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _cycle_path(start: str, members: set[str], edges: list[Edge]) -> list[Edge]:
    """One shortest circle through start inside its component (breadth-first back to start)."""
    out: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.importer in members and edge.imported in members:
            out.setdefault(edge.importer, []).append(edge)
    came_by: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for edge in out.get(node, []):
                if edge.imported == start:
                    path = [edge]
                    while path[0].importer != start:
                        path.insert(0, came_by[path[0].importer])
                    return path
                if edge.imported not in came_by:
                    came_by[edge.imported] = edge
                    following.append(edge.imported)
        frontier = following
    raise AssertionError(f"{start} is in a component but on no circle")


def find_cycles(graph: ImportGraph) -> list[list[Edge]]:
    edges = graph.internal()
    successors: dict[str, list[str]] = {}
    for edge in edges:
        successors.setdefault(edge.importer, []).append(edge.imported)
    components = [c for c in _strongly_connected(sorted(graph.modules), successors) if len(c) > 1]
    return [_cycle_path(component[0], set(component), edges) for component in components]


def _parts(module: str) -> list[str]:
    return module.split(".")


def _under(*prefixes: str) -> Callable[[str], bool]:
    return lambda module: any(module == p or module.startswith(p + ".") for p in prefixes)


def is_view(module: str) -> bool:
    parts = _parts(module)
    return "views" in parts or parts[:2] == ["openclaw_web", "api"]


def is_tasks(module: str) -> bool:
    return _parts(module)[-1] == "tasks"


def is_models(module: str) -> bool:
    return "models" in _parts(module)  # vaults.models.sync, compliance.models, django.db.models


def is_url_conf(module: str) -> bool:
    return "urls" in _parts(module)


@dataclass(frozen=True)
class Rule:
    name: str
    importer: Callable[[str], bool]
    imported: Callable[[str], bool]
    product_only: bool = True  # the imported side must be a module of the tree


OP = _under("vaults.op")
FAKE_OP = _under("vaults.fake_op")
RULES = [
    Rule("pages and the API call the domain, never `op`", is_view, OP),
    Rule("findings and reports are computed from the database alone", _under("vaults.findings", "compliance.reports"), OP),
    Rule("`op` parsing knows nothing of the database", OP, is_models, product_only=False),
    Rule(
        "domain code enqueues by name (openclaw_web/dispatch.py), never imports task wrappers",
        lambda m: not is_tasks(m) and m != "openclaw_web.celery",
        is_tasks,
    ),
    Rule("only URL confs (and other views) import views", lambda m: not is_view(m) and not is_url_conf(m), is_view),
    Rule(
        "the fake `op` stands alone (no product code but the pure copies rule)",
        FAKE_OP,
        lambda m: not FAKE_OP(m) and m not in FAKE_OP_MAY_IMPORT,
    ),
]


def forbidden_imports(graph: ImportGraph, rules: Sequence[Rule] = RULES) -> list[tuple[Rule, Edge]]:
    found = []
    for edge in graph.edges:
        if (edge.importer, edge.imported) in ALLOWED:
            continue
        for rule in rules:
            if rule.product_only and edge.imported not in graph.modules:
                continue
            if rule.importer(edge.importer) and rule.imported(edge.imported):
                found.append((rule, edge))
    return found


def load_time_closure(graph: ImportGraph, start: Iterable[str]) -> dict[str, Edge | None]:
    """Every module that importing start loads, with the edge that first reached it. Parent
    packages count here (importing a.b.c runs a/__init__ and a/b/__init__); imports under
    TYPE_CHECKING or inside functions do not (the fake never calls the copies rule's ORM helper)."""
    out: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        if not edge.type_only and not edge.deferred:
            out.setdefault(edge.importer, []).append(edge)
    reached: dict[str, Edge | None] = {}
    todo: list[tuple[str, Edge | None]] = [(m, None) for m in start]
    while todo:
        module, via = todo.pop()
        if module in reached:
            continue
        reached[module] = via
        parts = _parts(module)
        todo.extend((".".join(parts[:i]), via) for i in range(1, len(parts)) if ".".join(parts[:i]) in graph.modules)
        todo.extend((edge.imported, edge) for edge in out.get(module, []))
    return reached


def _explain_cycles(cycles: list[list[Edge]]) -> str:
    return "\n".join(
        "circle: " + " -> ".join([path[0].importer, *(e.imported for e in path)]) + "\n  " + "\n  ".join(map(str, path))
        for path in cycles
    )


@functools.cache
def product_graph() -> ImportGraph:
    return build_graph(REPO_ROOT, PRODUCT_PACKAGES)


def test_the_product_has_no_import_circle() -> None:
    cycles = find_cycles(product_graph())
    assert not cycles, "Import circles (tasks import the domain, never the other way):\n" + _explain_cycles(cycles)


def test_product_imports_run_one_way() -> None:
    found = forbidden_imports(product_graph())
    assert not found, "Forbidden imports:\n" + "\n".join(f"{edge}: {rule.name}" for rule, edge in found)


def test_the_fake_op_runs_without_django() -> None:
    graph = product_graph()
    reached = load_time_closure(graph, [m for m in graph.modules if FAKE_OP(m)])
    needs = {m: via for m, via in reached.items() if _under("django", "celery")(m)}
    assert not needs, "The fake `op` imports at run time: " + "; ".join(f"{m} via {via}" for m, via in needs.items())


def test_every_allowed_import_still_exists() -> None:
    """A stale exemption would silently allow the import back later."""
    present = {(e.importer, e.imported) for e in product_graph().edges}
    assert not ALLOWED - present, f"Remove from ALLOWED: {sorted(ALLOWED - present)}"


def test_the_graph_sees_the_product() -> None:
    """Decoy against a builder that reads nothing: known edges of each kind are in the graph."""
    edges = {(e.importer, e.imported, e.type_only, e.deferred) for e in product_graph().edges}
    assert ("vaults.tasks", "vaults.sync", False, False) in edges  # module level
    assert ("vaults.findings.copies", "vaults.models", True, False) in edges  # under TYPE_CHECKING
    assert ("vaults.findings.copies", "vaults.models", False, True) in edges  # in not_copies_of()
    assert ("vaults.op", "vaults.op.runner", False, False) in edges  # a package importing its submodule
    assert len(product_graph().modules) > 150


# --- self-checks on a synthetic tree ----------------------------------------------------------------


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


CLEAN_TREE = {
    "vaults/__init__.py": "",
    "vaults/op/__init__.py": "from .runner import run\n",
    "vaults/op/runner.py": "import subprocess\nfrom typing import TYPE_CHECKING\n",
    "vaults/models.py": "from django.db import models\n",
    "vaults/sync.py": """
        from openclaw_web import dispatch
        from vaults import op
        from vaults.models import Account

        def start(account: Account) -> None:
            # decoys: a task named in a string, and a module whose name only contains "tasks"
            from vaults import task_names
            dispatch.after_commit("vaults.tasks.sync_account_task", account.pk)
    """,
    "vaults/task_names.py": "SYNC = 'vaults.tasks.sync_account_task'\n",
    "vaults/tasks.py": "from vaults import sync\nfrom vaults.models import Account\n",
    "vaults/views.py": "from vaults import sync\nfrom vaults.models import Account\n",
    "vaults/urls.py": "from vaults import views\n",
    "vaults/fake_op/__init__.py": "",
    "vaults/fake_op/cli.py": "import json\nfrom . import render\nfrom vaults.findings.copies import same_service\n",
    "vaults/fake_op/render.py": "import json\n",
    "vaults/findings/__init__.py": "",
    "vaults/findings/copies.py": """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from django.db.models import QuerySet
            from vaults.models import Item

        def not_copies_of():
            from vaults.models import SecretField  # deferred: loading the module never runs it
    """,
    "openclaw_web/__init__.py": "",
    "openclaw_web/dispatch.py": "import importlib\n",
}


def test_self_check_passes_a_clean_tree(tmp_path: Path) -> None:
    _write_tree(tmp_path, CLEAN_TREE)
    graph = build_graph(tmp_path, ["vaults", "openclaw_web"])
    assert ("vaults.sync", "vaults.op") in {(e.importer, e.imported) for e in graph.edges}  # `from vaults import op`
    assert find_cycles(graph) == []
    assert forbidden_imports(graph) == []
    assert not any(m.startswith("django") for m in load_time_closure(graph, ["vaults.fake_op.cli"]))


def test_self_check_reports_a_planted_circle_as_a_path(tmp_path: Path) -> None:
    files = dict(CLEAN_TREE)
    # the circle closes through a function-level import, three modules long
    files["vaults/op/runner.py"] = "from vaults.op import records\n"
    files["vaults/op/records.py"] = "from vaults.op.errors import OpError\n"
    files["vaults/op/errors.py"] = "def explain():\n    from .runner import run\n"
    _write_tree(tmp_path, files)
    cycles = find_cycles(build_graph(tmp_path, ["vaults", "openclaw_web"]))
    assert [[(e.importer, e.imported) for e in path] for path in cycles] == [
        [("vaults.op.errors", "vaults.op.runner"), ("vaults.op.runner", "vaults.op.records"),
         ("vaults.op.records", "vaults.op.errors")]
    ]  # fmt: skip
    assert "vaults.op.errors -> vaults.op.runner -> vaults.op.records -> vaults.op.errors" in _explain_cycles(cycles)


def test_self_check_sees_a_circle_made_only_of_type_checking_imports(tmp_path: Path) -> None:
    files = dict(CLEAN_TREE)
    files["vaults/fake_op/render.py"] = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .cli import x\n"
    _write_tree(tmp_path, files)
    cycles = find_cycles(build_graph(tmp_path, ["vaults", "openclaw_web"]))
    assert {e.importer for path in cycles for e in path} == {"vaults.fake_op.cli", "vaults.fake_op.render"}


def test_self_check_reports_each_planted_forbidden_direction(tmp_path: Path) -> None:
    files = dict(CLEAN_TREE)
    files["vaults/views.py"] = "from vaults import op\n"
    files["vaults/findings/copies.py"] = "def f():\n    from vaults.op.runner import run\n"
    files["vaults/op/runner.py"] = "from django.db import models\n"
    files["vaults/sync.py"] = "def start():\n    from vaults.tasks import sync_account_task\n"
    files["vaults/task_names.py"] = "from vaults.views import page\n"
    files["vaults/fake_op/render.py"] = "from vaults.models import Item\n"
    _write_tree(tmp_path, files)
    found = {(edge.importer, edge.imported, rule.name.split()[0]) for rule, edge in forbidden_imports(
        build_graph(tmp_path, ["vaults", "openclaw_web"]))}  # fmt: skip
    assert found == {
        ("vaults.views", "vaults.op", "pages"),
        ("vaults.findings.copies", "vaults.op.runner", "findings"),
        ("vaults.op.runner", "django.db.models", "`op`"),
        ("vaults.sync", "vaults.tasks", "domain"),
        ("vaults.task_names", "vaults.views", "only"),
        ("vaults.fake_op.render", "vaults.models", "the"),
    }


def test_self_check_sees_the_fake_op_reach_django_through_a_parent_package(tmp_path: Path) -> None:
    files = dict(CLEAN_TREE)
    files["vaults/findings/__init__.py"] = "from django.conf import settings\n"
    _write_tree(tmp_path, files)
    reached = load_time_closure(build_graph(tmp_path, ["vaults", "openclaw_web"]), ["vaults.fake_op.cli"])
    assert "django.conf.settings" in reached
    assert "django.db.models.QuerySet" not in reached  # copies imports it only under TYPE_CHECKING
