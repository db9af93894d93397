#!/usr/bin/env python3
"""List import cycles among the modules of plugins/yishu, and modules over 400 lines.

    python scripts/import_cycles.py            # exit 1 if there is a cycle
    python scripts/import_cycles.py --sizes    # also list (and fail on) modules over 400 lines

Every `import yishu...` / `from yishu... import ...` counts, wherever it stands: at the top,
inside a function or a method (a lazy import still ties two modules together). Imports under
`if TYPE_CHECKING:` are skipped, as they never run. `from yishu.a import b` depends on module
`yishu.a.b` when that is a module, else on `yishu.a`; relative imports are resolved. Being inside
a package is not a dependency on its `__init__`: only imports written in the code count.
Standard library only, so it runs before anything is installed.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
MAX_LINES = 400


def modules(root: Path = PLUGINS, package: str = "yishu") -> dict[str, Path]:
    """Module name → file, for every .py file of the package (a package is its __init__)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imported_names(tree: ast.AST, module: str, is_package: bool):
    """Every dotted name the module imports (for `from a import b`: both a.b and a)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package upwards
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                yield base, alias.name


def _resolve(name: str, attribute: str | None, known: dict[str, Path]) -> str | None:
    if attribute and f"{name}.{attribute}" in known:
        return f"{name}.{attribute}"
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(known: dict[str, Path]) -> dict[str, set[str]]:
    graph = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        deps = {_resolve(n, a, known) for n, a in
                _imported_names(tree, module, path.name == "__init__.py")}
        graph[module] = {d for d in deps if d and d != module}
    return graph


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
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
                    work.append((child, iter(sorted(graph[child]))))
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
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _shortest_cycle(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """A shortest cycle through the first member, inside the component (breadth first)."""
    inside, start = set(members), members[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & inside):
            if child == start:
                return paths[node] + [start]
            if child not in paths:
                paths[child] = paths[node] + [child]
                queue.append(child)
    return members


def import_cycles(root: Path = PLUGINS, package: str = "yishu") -> list[str]:
    """Each cycle as 'a -> b -> a' followed by the members of its component."""
    graph = import_graph(modules(root, package))
    return [" -> ".join(_shortest_cycle(graph, c)) + f"   (component: {', '.join(c)})"
            for c in _components(graph)]


def oversized(root: Path = PLUGINS, package: str = "yishu") -> list[str]:
    out = []
    for path in modules(root, package).values():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            out.append(f"{path.relative_to(root)}: {lines} lines (at most {MAX_LINES})")
    return out


def main(argv: list[str]) -> int:
    cycles = import_cycles()
    for cycle in cycles:
        print(f"cycle: {cycle}")
    big = oversized() if "--sizes" in argv else []
    for line in big:
        print(f"too long: {line}")
    if not cycles:
        print(f"no import cycles among {len(modules())} modules of plugins/yishu")
    return 1 if cycles or big else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
