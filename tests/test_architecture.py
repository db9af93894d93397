"""The shape of the library, checked on every run:

- no import cycles among the modules of plugins/yishu (imports inside functions count; imports
  under `if TYPE_CHECKING:` do not), found by scripts/import_cycles.py;
- no module over 400 lines;
- only settings.py reads the environment;
- Airflow is imported at module level only inside yishu/airflow/ (the CLI starts it lazily);
- and the checker itself sees a cycle, so that these checks cannot pass by seeing nothing.
"""

import ast
import importlib.util
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "plugins" / "yishu"

_spec = importlib.util.spec_from_file_location("import_cycles",
                                               REPO / "scripts" / "import_cycles.py")
checker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checker)


def _python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


# (a) import cycles

def test_no_import_cycles():
    cycles = checker.import_cycles()
    assert cycles == [], f"{len(cycles)} import cycle(s):\n" + "\n".join(cycles)


# (b) module sizes

def test_no_module_over_400_lines():
    big = checker.oversized()
    assert big == {}, f"modules over {checker.MAX_LINES} lines:\n" + "\n".join(
        f"  {path.relative_to(REPO)}: {lines} lines" for path, lines in big.items())


# (c) the environment

_WRITES = ("setdefault", "update", "pop")  # os.environ.<write>(...)


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for every read of the environment: os.getenv, `from os import environ`
    or getenv, and any use of os.environ except a write (`os.environ[k] = v`,
    `del os.environ[k]`, os.environ.setdefault / update / pop). `os` may be aliased."""
    os_names = {"os"} | {alias.asname for node in ast.walk(tree) if isinstance(node, ast.Import)
                         for alias in node.names if alias.name == "os" and alias.asname}
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os" and not node.level:
            found += [(node.lineno, f"from os import {alias.name}") for alias in node.names
                      if alias.name in ("environ", "environb", "getenv", "getenvb")]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in os_names:
            if node.attr in ("getenv", "getenvb"):
                found.append((node.lineno, f"os.{node.attr}"))
            elif node.attr in ("environ", "environb"):
                parent = parents.get(id(node))
                if isinstance(parent, ast.Subscript) and parent.value is node:
                    if not isinstance(parent.ctx, ast.Store | ast.Del):
                        found.append((node.lineno, "os.environ[...]"))
                elif isinstance(parent, ast.Attribute):
                    if parent.attr not in _WRITES:
                        found.append((node.lineno, f"os.environ.{parent.attr}"))
                else:
                    found.append((node.lineno, "os.environ"))
    return sorted(found)


def test_the_environment_check_tells_reads_from_writes():
    code = ("import os\nimport os as system\nfrom os import environ\n"
            "os.environ.get('A')\nos.environ.setdefault('B', '1')\nos.environ['C'] = '1'\n"
            "os.getenv('D')\nx = os.environ['E']\ndel os.environ['F']\n"
            "system.environ.get('G')\nenv = os.environ.copy()\nf(os.environ)\n")
    assert _environment_reads(ast.parse(code)) == [
        (3, "from os import environ"), (4, "os.environ.get"), (7, "os.getenv"),
        (8, "os.environ[...]"), (10, "os.environ.get"), (11, "os.environ.copy"),
        (12, "os.environ")]


def test_only_settings_reads_the_environment():
    """The rule: outside plugins/yishu/settings.py, no module reads the environment (os.getenv,
    os.environ.get, os.environ[k], `from os import environ`...); they get a Settings object.
    Setting a variable that a library reads is not reading (os.environ[k] = v,
    os.environ.setdefault / update / pop): e.g. Airflow's configuration, which
    airflow/runner.py must put in os.environ before importing Airflow. airflow/runner.py and
    airflow/server.py may also hand the whole environment to a subprocess (os.environ.copy()),
    and never name a YISHU_* variable: Yishu's settings reach them as Settings."""
    offenders = []
    for path in _python_files():
        name = _name(path)
        if name == "settings.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        reads = _environment_reads(tree)
        if name in ("airflow/runner.py", "airflow/server.py"):
            reads = [(line, what) for line, what in reads if what != "os.environ.copy"]
            reads += [(node.lineno, f"names {node.value!r}") for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str)
                      and node.value.startswith("YISHU_")]
        offenders += [f"  plugins/yishu/{name}:{line}: {what}" for line, what in reads]
    assert offenders == [], "only settings.py reads the environment:\n" + "\n".join(offenders)


# (d) Airflow starts lazily

def _is_airflow(name: str) -> bool:
    return name == "airflow" or name.startswith("airflow.")


def _outside_airflow_package(module: str) -> bool:
    return module != "yishu.airflow" and not module.startswith("yishu.airflow.")


def _module_level_airflow_imports() -> dict[str, int]:
    """Module -> line of its first import of `airflow` that runs when the module is imported
    (at the top, in an if/try block or a class body; not in a function, not under
    `if TYPE_CHECKING:`). Relative imports (`from .airflow import x`) are not Airflow."""
    found = {}
    for module, path in checker.modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lines = [line for name, _, line, scope in
                 checker.imports(tree, module, path.name == "__init__.py")
                 if not scope and _is_airflow(name)]
        if lines:
            found[module] = min(lines)
    return found


def test_airflow_is_imported_at_module_level_only_in_the_airflow_package():
    """Modules outside plugins/yishu/airflow/ import `airflow` only inside functions."""
    found = _module_level_airflow_imports()
    offenders = [f"  {module} (line {line})" for module, line in sorted(found.items())
                 if _outside_airflow_package(module)]
    assert offenders == [], "airflow imported at module level:\n" + "\n".join(offenders)


def test_importing_a_module_outside_the_airflow_package_does_not_import_airflow():
    """Nor do they reach Airflow through the module-level imports of other yishu modules
    (e.g. a module-level `from yishu.airflow.factory import ...` in the CLI), counting here
    that importing `yishu.a.b` first runs the package `yishu.a`."""
    eager = _module_level_airflow_imports()
    sites = checker.import_sites(checker.modules())
    top = {module: {target for target, where in targets.items()
                    if any(not scope for _, scope in where)}
           for module, targets in sites.items()}
    for module, targets in top.items():
        if module.rpartition(".")[0] in top:
            targets.add(module.rpartition(".")[0])
    offenders = []
    for start in sorted(m for m in top if _outside_airflow_package(m)):
        paths = {start: [start]}
        queue = deque([start])
        while queue:
            module = queue.popleft()
            if module in eager:
                offenders.append(f"  {' -> '.join(paths[module])} -> airflow "
                                 f"(line {eager[module]})")
                break
            for target in sorted(top[module] - paths.keys()):
                paths[target] = paths[module] + [target]
                queue.append(target)
    assert offenders == [], "importing these modules imports Airflow:\n" + "\n".join(offenders)


# (e) the checker sees what it should

def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_sees_a_cycle_through_an_import_inside_a_function(tmp_path):
    _write(tmp_path, {
        "demo/__init__.py": "",
        # a -> sub.b: `from package import module` depends on the module
        "demo/a.py": "from demo.sub import b\n",
        # sub.b -> c: relative, two levels up, inside a function
        "demo/sub/b.py": "def later():\n    from ..c import thing\n    return thing\n",
        # c -> a: closes the cycle
        "demo/c.py": "import demo.a\nthing = 1\n",
        # no edge from a module to the package it is in: sub -> sub.h but not back
        "demo/sub/__init__.py": "from .h import x\n",
        "demo/sub/h.py": "x = 1\n",
        # imports under TYPE_CHECKING never run: no d -> e -> d cycle
        "demo/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                     "    import demo.e\nelse:\n    import demo.sub.h\n",
        "demo/e.py": "import demo.d\n",
        # a self-import in a method
        "demo/selfish.py": "class K:\n    def m(self):\n        import demo.selfish\n",
    })
    graph = checker.import_graph(checker.modules(tmp_path, "demo"))
    assert graph["demo.d"] == {"demo.sub.h"}
    assert graph["demo.sub"] == {"demo.sub.h"} and graph["demo.sub.h"] == set()
    assert graph["demo.sub.b"] == {"demo.c"}
    cycles = checker.import_cycles(tmp_path, "demo")
    assert [text.splitlines()[0] for text in cycles] == [
        "demo.a -> demo.sub.b -> demo.c -> demo.a", "demo.selfish -> demo.selfish"], cycles
    assert "component of 3: demo.a, demo.c, demo.sub.b" in cycles[0]
    assert "b.py:2 (inside later) imports demo.c" in cycles[0]
    assert "selfish.py:3 (inside K.m) imports demo.selfish" in cycles[1]


def test_the_checker_finds_a_shortest_cycle_and_long_modules(tmp_path):
    _write(tmp_path, {
        "demo/__init__.py": "",
        "demo/a.py": "import demo.b\nimport demo.x\n",
        "demo/b.py": "import demo.c\n",
        "demo/c.py": "import demo.a\n",
        "demo/x.py": "import demo.y\n",
        "demo/y.py": "import demo.x\n",
        "demo/big.py": "x = 1\n" * 401,
        "demo/fine.py": "x = 1\n" * 400,
    })
    cycles = checker.import_cycles(tmp_path, "demo")
    assert [text.splitlines()[0] for text in cycles] == [
        "demo.a -> demo.b -> demo.c -> demo.a", "demo.x -> demo.y -> demo.x"], cycles
    big = checker.oversized(tmp_path, "demo")
    assert {path.relative_to(tmp_path).as_posix(): n for path, n in big.items()} == \
        {"demo/big.py": 401}
