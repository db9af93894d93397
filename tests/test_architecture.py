"""The shape of the library, checked on every run: no import cycles (imports inside functions
count), no module over 400 lines, one module that reads the environment, Airflow imported at
module level only inside yishu/airflow/."""

import ast

import pytest

from tests.shape import REPO, checker

PACKAGE = REPO / "plugins" / "yishu"


def test_no_import_cycles():
    cycles = checker.import_cycles()
    assert cycles == [], "\n".join(cycles)


def test_no_module_over_400_lines():
    assert checker.oversized() == []


def test_the_checker_sees_a_cycle_through_an_import_inside_a_function(tmp_path):
    pkg = tmp_path / "demo"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from demo.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def later():\n    from ..c import thing\n")
    (pkg / "c.py").write_text("import demo.a\nthing = 1\n")
    (pkg / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    import demo.a\n")
    (pkg / "e.py").write_text("import demo.d\n")
    cycles = checker.import_cycles(tmp_path, "demo")
    assert len(cycles) == 1, cycles
    assert cycles[0].startswith("demo.a -> demo.sub.b -> demo.c -> demo.a")
    big = pkg / "big.py"
    big.write_text("x = 1\n" * 401)
    assert [line.split(":")[0] for line in checker.oversized(tmp_path, "demo")] == \
        ["demo/big.py"]


def _python_files():
    return sorted(PACKAGE.rglob("*.py"))


_WRITES = ("setdefault", "update", "__setitem__")


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines that read os.environ or call os.getenv. Setting a variable for a library
    (os.environ.setdefault/update, os.environ[k] = v) is not reading it."""
    stored = {id(n.value) for n in ast.walk(tree)
              if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store)}
    writes = {id(n.value) for n in ast.walk(tree)
              if isinstance(n, ast.Attribute) and n.attr in _WRITES}
    return sorted(n.lineno for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv")
            and isinstance(n.value, ast.Name) and n.value.id == "os"
            and id(n) not in stored | writes)


def test_the_environment_check_tells_reads_from_writes():
    code = ("import os\nos.environ.get('A')\nos.environ.setdefault('B', '1')\n"
            "os.environ['C'] = '1'\nos.getenv('D')\nx = os.environ['E']\n")
    assert _environment_reads(ast.parse(code)) == [2, 5, 6]


def test_only_settings_reads_the_environment():
    """Settings come from one module. Others may set variables a library reads (Airflow's
    configuration, GX analytics); the Airflow runner also hands its environment to the
    `airflow db migrate` subprocess, and never names a YISHU_* variable."""
    offenders = {}
    for path in _python_files():
        name = str(path.relative_to(PACKAGE))
        if name == "settings.py":
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        lines = _environment_reads(tree)
        if name == "airflow/runner.py":
            names = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                     and isinstance(n.value, str) and n.value.startswith("YISHU_")]
            assert names == [], "the runner takes Settings; it never names a YISHU_* variable"
            lines = [n for n in lines if "os.environ.copy()" not in source.splitlines()[n - 1]]
        if lines:
            offenders[name] = lines
    assert offenders == {}


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_airflow_is_imported_at_module_level_only_in_the_airflow_package(path):
    if path.relative_to(PACKAGE).parts[0] == "airflow":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n == "airflow" or n.startswith("airflow.")]
