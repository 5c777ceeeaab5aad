"""Weakening analysis: what a change does to the tests that judge it, deterministically.

For each protected file the candidate changed: deleted; for Python, test
functions removed, assertions removed or changed (the multiset of ``assert``
statements, ``self.assert*`` calls and ``pytest.raises``/``approx`` uses, so an
assertion moved between functions of the file is no weakening), skip/xfail
markers added, module-level values changed, pytest hooks added or changed; any
other protected file (fixtures, expected outputs, test configuration,
Makefile) changed at all. For new files: a ``conftest.py`` or plugin defining
pytest hooks, a module that shadows the standard library or an installed
package (a fake ``pytest.py``), a ``.pth`` file.
"""

from __future__ import annotations

import ast
import difflib
import sys
from collections import Counter
from collections.abc import Iterable

from orchestrator.store.git import Repo
from orchestrator.verify.candidate import Verdict, blob_texts, ls_tree

_SKIP_NAMES = {
    "skip",
    "skipif",
    "xfail",
    "skipTest",
    "importorskip",
    "skipUnless",
    "expectedFailure",
}
_ASSERT_CALLS = {"raises", "approx", "warns", "fail"}
_SHADOW_EXTRA = {"pytest", "_pytest", "py", "pluggy", "sitecustomize", "usercustomize", "conftest"}
_HOOK_PREFIX = "pytest_"


def _canonical(node: ast.AST) -> str:
    """``node``'s source with local names renamed by first appearance (``v0``, ``v1``...),
    so a refactor that renames variables keeps its assertions while ``x == y`` and
    ``x == x`` stay different."""
    copy = ast.parse(ast.unparse(node))
    names: dict[str, str] = {}
    for sub in ast.walk(copy):
        if isinstance(sub, ast.Name):
            sub.id = names.setdefault(sub.id, f"v{len(names)}")
    return ast.unparse(copy)


def _assertions(tree: ast.AST) -> dict[str, list[str]]:
    """Canonical form -> the assertions (as written) that have it."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found.setdefault(_canonical(node), []).append(ast.unparse(node))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name.startswith("assert") or name in _ASSERT_CALLS:
                found.setdefault(_canonical(node), []).append(ast.unparse(node))
    return found


def lost_assertions(before: list[ast.AST], after: list[ast.AST]) -> list[str]:
    """Assertions of ``before`` with no counterpart left in ``after`` (as written)."""
    old: dict[str, list[str]] = {}
    new: Counter[str] = Counter()
    for tree in before:
        for key, items in _assertions(tree).items():
            old.setdefault(key, []).extend(items)
    for tree in after:
        for key, items in _assertions(tree).items():
            new[key] += len(items)
    lost = []
    for key, items in old.items():
        lost += items[new[key] :]
    return sorted(lost)


def _tests(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    item.name.startswith("test")
                ):
                    names.add(f"{node.name}.{item.name}")
    return names


def _skips(tree: ast.AST) -> int:
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            count += node.attr in _SKIP_NAMES
        elif isinstance(node, ast.Name):
            count += node.id in _SKIP_NAMES or node.id == "pytestmark"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            count += "--deselect" in node.value or "-k " in node.value
    return count


def _module_values(tree: ast.Module) -> dict[str, str]:
    values: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = ast.unparse(node.value) if node.value is not None else ""
            for target in targets:
                values[ast.unparse(target)] = value
    return values


def _hooks(tree: ast.Module) -> dict[str, str]:
    return {
        node.name: ast.dump(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith(_HOOK_PREFIX)
    }


def _short(items: Iterable[str], limit: int = 3) -> str:
    items = list(items)
    shown = ", ".join(f"`{i[:80]}`" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def python_weakening(path: str, old: str, new: str, *, assertions: bool = True) -> list[str]:
    """Findings for a changed protected Python file (``assertions=False``: the caller
    compares assertions across files)."""
    try:
        before = ast.parse(old)
    except SyntaxError:
        return []
    try:
        after = ast.parse(new)
    except SyntaxError as exc:
        return [f"{path} no longer parses (line {exc.lineno})"]
    found = []
    removed_tests = _tests(before) - _tests(after)
    if removed_tests:
        found.append(f"{path}: test functions removed: {_short(sorted(removed_tests))}")
    lost = lost_assertions([before], [after]) if assertions else []
    if lost:
        found.append(f"{path}: assertions removed or changed: {_short(lost)}")
    if _skips(after) > _skips(before):
        found.append(f"{path}: skip, xfail or deselection added")
    new_values = set(_module_values(after).values())
    changed = [k for k, v in _module_values(before).items() if v not in new_values]
    if changed:
        found.append(f"{path}: module-level values changed: {_short(changed)}")
    old_hooks, new_hooks = _hooks(before), _hooks(after)
    hooks = [k for k, v in new_hooks.items() if old_hooks.get(k) != v]
    if hooks:
        found.append(f"{path}: pytest hooks added or changed: {_short(hooks)}")
    return found


def data_weakening(path: str, old: str, new: str) -> list[str]:
    """Findings for a changed protected non-Python file: test configuration may not
    change at all; a fixture or expected output may only gain lines (new cases)."""
    name = path.rsplit("/", 1)[-1]
    if name in _TEST_CONFIG_NAMES or name in ("package.json", "pyproject.toml"):
        return [f"{path} changed (test configuration)"]
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    if all(op in ("equal", "insert") for op, *_ in matcher.get_opcodes()):
        return []
    return [f"{path} changed (a fixture or expected output: lines changed or removed)"]


def _installed_names() -> set[str]:
    return set(sys.stdlib_module_names) | _SHADOW_EXTRA


# Files that configure how tests run, and win over the ones the checkpoint had (a new
# pytest.ini beats pyproject.toml, a GNUmakefile beats the Makefile).
_TEST_CONFIG_NAMES = {
    "pytest.ini",
    ".pytest.ini",
    "tox.ini",
    "setup.cfg",
    "noxfile.py",
    "GNUmakefile",
    "makefile",
    "Makefile",
    "jest.config.js",
    "jest.config.ts",
    "vitest.config.ts",
    "vitest.config.js",
}


_REPORTING = {"TestReport", "CollectReport", "CallInfo", "exitstatus", "_exit"}


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    """Statements that run when the module is imported (also inside top-level if/try/with)."""
    out: list[ast.stmt] = []
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        out.append(node)
        if isinstance(node, ast.If | ast.With | ast.For | ast.While):
            pending += node.body + node.orelse if not isinstance(node, ast.With) else node.body
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                pending += handler.body
    return out


def _import_time_patches(tree: ast.Module) -> list[str]:
    """What a (new) test module changes in other modules as it is imported: attribute or
    item assignments, setattr calls, pytest's reporting machinery touched anywhere."""
    found = []
    for node in _top_level(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Attribute | ast.Subscript) for t in targets):
            found.append(ast.unparse(node).splitlines()[0])
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if getattr(func, "id", None) == "setattr" or getattr(func, "attr", None) == "setattr":
                found.append(ast.unparse(node).splitlines()[0])
    for sub in ast.walk(tree):
        name = sub.attr if isinstance(sub, ast.Attribute) else getattr(sub, "id", None)
        if name in _REPORTING:
            found.append(f"uses {name}")
            break
        if isinstance(sub, ast.Import | ast.ImportFrom):
            modules = (
                [a.name for a in sub.names] if isinstance(sub, ast.Import) else [sub.module or ""]
            )
            if any(m.split(".")[0] in ("_pytest", "pluggy") for m in modules):
                found.append("imports pytest's internals")
                break
    return found


def new_file_findings(paths: Iterable[str], read: dict[str, str]) -> list[str]:
    """Findings for files new since the checkpoint (``read``: path -> text for .py files)."""
    found = []
    shadows = _installed_names()
    for path in sorted(paths):
        parts = path.split("/")
        name = parts[-1]
        if name in _TEST_CONFIG_NAMES and (len(parts) == 1 or name.endswith((".ini", ".cfg"))):
            found.append(f"new test configuration file {path}")
            continue
        if name.endswith(".pth"):
            found.append(f"new start-up file {path}")
            continue
        top = parts[1] if parts[0] == "src" and len(parts) > 1 else parts[0]
        module = top.removesuffix(".py")
        if module in shadows and (top.endswith(".py") or len(parts) > 1) and top != "conftest.py":
            found.append(f"new {path} shadows the module `{module}`")
        if name.endswith(".py") and path in read:
            try:
                tree = ast.parse(read[path])
            except SyntaxError:
                continue
            patches = _import_time_patches(tree)
            if patches:
                found.append(f"new {path} changes other modules when imported: {_short(patches)}")
            hooks = sorted(_hooks(tree))
            plugins = [
                n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "pytest_plugins"
            ]
            if plugins:
                found.append(f"new {path} loads pytest plugins (pytest_plugins)")
            if hooks:
                found.append(f"new {path} defines pytest hooks: {_short(hooks)}")
            elif name == "conftest.py" and _skips(tree):
                found.append(f"new {path} skips or deselects tests")
    return found


_TEST_RUN_MARKERS = ("PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS", "ORCH_VERIFY", "orchestrator_verify")


def code_findings(path: str, text: str) -> list[str]:
    """Findings for changed code outside the tests: code under test has no business
    importing pytest's internals or looking at the test run (that is how in-process
    tampering with the results, or behaving differently under test, starts)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        if any(m.split(".")[0] in ("_pytest", "pytest", "pluggy") for m in modules):
            found.append(f"{path}: code outside the tests imports pytest or its internals")
            break
    if any(marker in text for marker in _TEST_RUN_MARKERS):
        found.append(f"{path}: code outside the tests looks at the test run's environment")
    return found


def _is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (
        path.startswith(("tests/", "test/", "testing/"))
        or "/tests/" in path
        or "/test/" in path
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name in ("conftest.py", "noxfile.py")
    )


def _may_hook(path: str) -> bool:
    """Python files pytest loads as plugins or test modules (read to look for hooks)."""
    name = path.rsplit("/", 1)[-1]
    if not name.endswith(".py"):
        return False
    return (
        name == "conftest.py"
        or name.startswith("test_")
        or name.endswith("_test.py")
        or "plugin" in name
        or path.startswith(("tests/", "test/"))
    )


def analyse_changes(repo: Repo, checkpoint: str, verdict: Verdict) -> list[str]:
    """Every weakening finding of the candidate against ``checkpoint`` (one ``git
    cat-file --batch`` reads every blob it needs)."""
    base = verdict.checkpoint_files or ls_tree(repo, checkpoint)
    cand = verdict.candidate_files or ls_tree(repo, verdict.candidate_tree)
    new_paths = [p for p in cand if p not in base]
    hooked = [p for p in new_paths if _may_hook(p)]
    code = [
        p for p in cand if p.endswith(".py") and not _is_test_path(p) and base.get(p) != cand[p]
    ]
    shas = [cand[p][1] for p in [*hooked, *code]]
    for path in verdict.changed_protected:
        if path in cand:
            shas += [base[path][1], cand[path][1]]
    blobs = blob_texts(repo, shas)
    found: list[str] = []
    olds: list[str] = []
    news: list[str] = []
    for path in verdict.changed_protected:
        protection = verdict.protected[path]
        if path not in cand:
            found.append(f"{path} deleted")
        elif not protection.whole:
            found.append(f"{path}: protected sections changed ({', '.join(protection.sections)})")
        elif path.endswith(".py"):
            old, new = blobs.get(base[path][1], ""), blobs.get(cand[path][1], "")
            found += python_weakening(path, old, new, assertions=False)
            olds.append(old)
            news.append(new)
        else:
            found += data_weakening(
                path, blobs.get(base[path][1], ""), blobs.get(cand[path][1], "")
            )
    texts = {p: blobs.get(cand[p][1], "") for p in hooked}
    found += new_file_findings(new_paths, texts)
    lost = lost_assertions(_parsed(olds), _parsed(news + list(texts.values())))
    if lost:
        found.append(f"assertions removed or changed: {_short(lost)}")
    for path in sorted(code):
        found += code_findings(path, blobs.get(cand[path][1], ""))
    return found


def _parsed(texts: list[str]) -> list[ast.AST]:
    trees: list[ast.AST] = []
    for text in texts:
        try:
            trees.append(ast.parse(text))
        except SyntaxError:
            continue
    return trees
