"""The command line: clear messages for user errors, and the README kept in sync with it."""

import re

import typer
from typer.testing import CliRunner

from yishu.catalog import spec
from yishu.cli import app
from yishu.settings import REPO_ROOT

runner = CliRunner()
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: typer.Typer, prefix: str = "yishu") -> list[str]:
    names = [f"{prefix} {c.name or c.callback.__name__.replace('_', '-')}"
             for c in group.registered_commands]
    for sub in group.registered_groups:
        names += _commands(sub.typer_instance, f"{prefix} {sub.name}")
    return names


def test_every_command_is_in_the_readme():
    missing = [c for c in _commands(app) if f"`{c}" not in README]
    assert missing == []


def test_every_catalog_field_is_in_the_readme():
    fields = set()
    for cls in (spec.Element, spec.Source, spec.SourceColumn, spec.Product, spec.Zone):
        fields |= set(cls.__dataclass_fields__) - {"name", "file", "source_column", "columns"}
    fields |= {"from", "columns", "name"}
    missing = sorted(f for f in fields if not re.search(rf"`{f}`", README))
    assert missing == []


def test_every_setting_is_in_the_readme():
    source = (REPO_ROOT / "plugins/yishu/settings.py").read_text(encoding="utf-8")
    for var in re.findall(r'"(YISHU_[A-Z_]+)"', source):
        assert f"`{var}" in README, var


def test_bad_catalog_gets_one_clear_message(catalog_copy):
    (catalog_copy / "catalog" / "zones.yaml").write_text("zones: [", encoding="utf-8")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "zones.yaml" in result.output and "invalid YAML" in result.output
    assert "Traceback" not in result.output


def test_unknown_product_names_the_known_ones():
    result = runner.invoke(app, ["run", "no_such_product"])
    assert result.exit_code == 1
    assert "unknown source or product 'no_such_product'" in result.output
    assert "insurance_visits" in result.output


def test_quarantine_show_of_an_unknown_batch():
    result = runner.invoke(app, ["quarantine", "show", "health_visits", "1999-01-01"])
    assert result.exit_code == 1 and "no batch of source 'health_visits'" in result.output


def test_voucher_verify_needs_a_version_folder(tmp_path):
    result = runner.invoke(app, ["voucher", "verify", str(tmp_path)])
    assert result.exit_code == 1 and "no voucher.json" in result.output


def test_reidentify_is_audited_and_refuses_foreign_values():
    import pyarrow as pa

    from yishu import keys
    from yishu.access import audit
    from yishu.deid.operators import encrypt

    sealed = encrypt(pa.array(["440305199001011234"]), keys.encryption_key())[0].as_py()
    result = runner.invoke(app, ["reidentify", sealed, "--reason", "court order 42",
                                 "--actor", "bureau-admin"])
    assert result.exit_code == 0 and "440305199001011234" in result.output
    last = audit.entries()[-1]
    assert last.action == "reidentify" and last.actor == "bureau-admin"
    assert "440305199001011234" not in str(last.detail)
    bad = runner.invoke(app, ["reidentify", "not-a-sealed-value", "--reason", "x"])
    assert bad.exit_code == 1 and "nothing revealed" in bad.output
