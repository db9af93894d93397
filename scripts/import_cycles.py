#!/usr/bin/env python3
"""List import cycles among the modules of plugins/yishu, and modules over 400 lines.

    python scripts/import_cycles.py            # exit 1 if there is an import cycle
    python scripts/import_cycles.py --sizes    # also list (and fail on) modules over 400 lines

Modules: every .py file under plugins/yishu is a module (`yishu/a/b.py` is `yishu.a.b`); a
package is its `__init__.py` (`yishu/a/__init__.py` is `yishu.a`).

Edges: every `import yishu...` / `from yishu... import ...` / relative import counts, wherever it
stands: at the top, in a class body, or inside a function or a method (a lazy import still ties
two modules together, and it closes a cycle as soon as the function runs). Imports under
`if TYPE_CHECKING:` (or `if typing.TYPE_CHECKING:`) are NOT counted: they never execute; their
`else:` branch is counted.

Resolution: `import yishu.a.b` depends on `yishu.a.b` (or, if that is no module, on the nearest
enclosing module, e.g. `yishu.a`). `from yishu.a import b` depends on `yishu.a.b` when that is a
module, else on `yishu.a`. Relative imports are resolved from the importing module's package
(`from .c import x` in `yishu/a/b.py` is `from yishu.a.c import x`; in `yishu/a/__init__.py`
too). Being inside a package is not a dependency on its `__init__` (Python imports the parent
package first, but no code asks for it): only imports written in the code count. Imports of
anything outside the package (stdlib, airflow, pandas...) are ignored.

Cycles: strongly connected components of that graph with more than one module, and modules that
import themselves. For each, one shortest cycle is printed as `a -> b -> a`, with the line of
each import on it, followed by all the members of the component.

Standard library only, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGINS = REPO / "plugins"
MAX_LINES = 400

Sites = dict[str, dict[str, list[tuple[int, str]]]]  # module -> imported -> [(line, scope)]


def modules(root: Path = PLUGINS, package: str = "yishu") -> dict[str, Path]:
    """Module name -> file, for every .py file of the package (a package is its __init__)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:`, whose body never runs."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(tree: ast.AST, module: str, is_package: bool):
    """(dotted name, imported attribute or None, line, scope) for every import of the module.

    `scope` is "" at module level (class bodies included: they run at import), else the
    qualified name of the enclosing function, e.g. "Runner.start"."""
    package = module.split(".") if is_package else module.split(".")[:-1]

    def walk(node: ast.AST, scope: str, lazy: bool):
        if _type_checking_only(node):
            for stmt in node.orelse:
                yield from walk(stmt, scope, lazy)
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            scope = f"{scope}.{node.name}" if scope else node.name
            lazy = lazy or not isinstance(node, ast.ClassDef)
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno, scope if lazy else ""
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, one level up per extra dot
                up = node.level - 1
                if up >= len(package):
                    return  # beyond the top-level package: an ImportError, not an edge
                base = ".".join(package[:len(package) - up] + ([base] if base else []))
            for alias in node.names:
                yield base, alias.name, node.lineno, scope if lazy else ""
        for child in ast.iter_child_nodes(node):
            yield from walk(child, scope, lazy)

    yield from walk(tree, "", False)


def _resolve(name: str, attribute: str | None, known: dict[str, Path]) -> str | None:
    """The module an import depends on, or None when it is not one of `known`."""
    if attribute and f"{name}.{attribute}" in known:
        return f"{name}.{attribute}"
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_sites(known: dict[str, Path]) -> Sites:
    """For each module, the modules it imports, each with [(line, scope)] of the imports
    (scope "" for module level, else the enclosing function). Raises SyntaxError on a file
    that does not parse."""
    sites: Sites = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found = sites[module] = {}
        for name, attribute, line, scope in imports(tree, module, path.name == "__init__.py"):
            target = _resolve(name, attribute, known)
            if target is not None:
                found.setdefault(target, []).append((line, scope))
    return sites


def import_graph(known: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules it imports (at the top or inside functions). A module that
    imports itself has itself in its set."""
    return {module: set(targets) for module, targets in import_sites(known).items()}


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components, each sorted (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(graph[start])))]
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
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
    return found


def _shortest_cycle(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """A shortest cycle inside the component, as [a, b, ..., a] (breadth first from each
    member; on a tie, the one that starts at the first member in alphabetical order)."""
    inside = set(members)
    best: list[str] = []
    for start in members:
        paths = {start: [start]}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if best and len(paths[node]) >= len(best) - 1:
                break  # cannot beat the best cycle found so far
            for child in sorted(graph[node] & inside):
                if child == start:
                    best = paths[node] + [start]
                    queue.clear()
                    break
                if child not in paths:
                    paths[child] = paths[node] + [child]
                    queue.append(child)
    return best


def cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """(shortest cycle, members of its component) for every component with more than one
    module, and for every module that imports itself."""
    found = []
    for members in _components(graph):
        if len(members) > 1 or members[0] in graph[members[0]]:
            found.append((_shortest_cycle(graph, members), members))
    return sorted(found, key=lambda item: item[1])


def _where(path: Path, line: int, scope: str) -> str:
    try:
        shown = path.relative_to(REPO)
    except ValueError:
        shown = path
    return f"{shown}:{line}" + (f" (inside {scope})" if scope else "")


def import_cycles(root: Path = PLUGINS, package: str = "yishu") -> list[str]:
    """Each cycle as readable text: first line `a -> b -> a`, then the members of its
    component, then where each import of the cycle is written."""
    known = modules(root, package)
    sites = import_sites(known)
    graph = {module: set(targets) for module, targets in sites.items()}
    texts = []
    for cycle, members in cycles(graph):
        lines = [" -> ".join(cycle), f"  component of {len(members)}: {', '.join(members)}"]
        for source, target in zip(cycle, cycle[1:], strict=False):
            for line, scope in sites[source][target]:
                lines.append(f"  {_where(known[source], line, scope)} imports {target}")
        texts.append("\n".join(lines))
    return texts


def sizes(root: Path = PLUGINS, package: str = "yishu") -> dict[Path, int]:
    """File -> number of lines, for every module of the package."""
    return {path: len(path.read_text(encoding="utf-8").splitlines())
            for path in modules(root, package).values()}


def oversized(root: Path = PLUGINS, package: str = "yishu",
              limit: int = MAX_LINES) -> dict[Path, int]:
    """The modules over `limit` lines, longest first: file -> number of lines."""
    found = sorted(((lines, path) for path, lines in sizes(root, package).items()
                    if lines > limit), reverse=True)
    return {path: lines for lines, path in found}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", action="store_true",
                        help=f"also list modules over {MAX_LINES} lines (and fail on them)")
    args = parser.parse_args(argv)
    try:
        found = import_cycles()
    except SyntaxError as error:
        print(f"cannot parse {error.filename}:{error.lineno}: {error.msg}", file=sys.stderr)
        return 2
    count = len(modules())
    for number, text in enumerate(found, 1):
        print(f"import cycle {number}: {text}")
    if found:
        print(f"{len(found)} import cycle(s) among {count} modules of plugins/yishu")
    else:
        print(f"no import cycles among {count} modules of plugins/yishu")
    big = oversized() if args.sizes else {}
    for path, lines in big.items():
        print(f"too long: {path.relative_to(REPO)}: {lines} lines (at most {MAX_LINES})")
    if args.sizes and not big:
        longest = max(sizes().items(), key=lambda item: item[1], default=None)
        suffix = f" (longest: {longest[0].relative_to(REPO)}, {longest[1]})" if longest else ""
        print(f"no module over {MAX_LINES} lines{suffix}")
    return 1 if found or big else 0


if __name__ == "__main__":
    sys.exit(main())
