"""The command line: clear messages for user errors, and the README kept in sync with it."""

import re

import pytest
import typer
from typer.testing import CliRunner

from yishu.cli import app
from yishu.definitions import models as spec
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
    for cls in (spec.Element, spec.Source, spec.SourceColumn, spec.Product, spec.Join,
                spec.Zone, spec.Scenario):
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


def test_reidentify_is_audited_and_refuses_foreign_values(res):
    import pyarrow as pa

    from yishu.access import audit
    from yishu.deid.operators import encrypt

    sealed = encrypt(pa.array(["440305199001011234"]), res.keys.encryption_key(),
                     "finance")[0].as_py()
    # values come after `--`: a sealed value is URL-safe base64 and may start with '-'
    result = runner.invoke(app, ["reidentify", "--zone", "finance", "--reason",
                                 "court order 42", "--actor", "bureau-admin", "--", sealed])
    assert result.exit_code == 0 and "440305199001011234" in result.output
    last = audit.entries(res.db)[-1]
    assert last.action == "reidentify" and last.actor == "bureau-admin"
    assert "440305199001011234" not in str(last.detail)
    bad = runner.invoke(app, ["reidentify", "not-a-sealed-value", "--zone", "finance",
                              "--reason", "x"])
    assert bad.exit_code == 1 and "nothing revealed" in bad.output
    other_zone = runner.invoke(app, ["reidentify", "--zone", "insurance", "--reason", "x", "--",
                                     sealed])
    assert other_zone.exit_code == 1 and "nothing revealed" in other_zone.output


def test_reidentify_reads_a_sealed_value_starting_with_a_dash(res):
    import pyarrow as pa

    from yishu.deid.operators import encrypt

    key = res.keys.encryption_key()
    plain, sealed = next((p, s) for i in range(10_000)
                         if (s := encrypt(pa.array([p := f"1380000{i:04d}"]), key,
                                          "finance")[0].as_py()).startswith("-"))
    result = runner.invoke(app, ["reidentify", "--zone", "finance", "--reason", "test", "--",
                                 sealed])
    assert result.exit_code == 0 and f"{sealed} → {plain}" in result.output


def test_scan_and_auto_deidentify_an_ad_hoc_file(tmp_path):
    import pyarrow.parquet as pq

    from yishu.samples import generate

    table = generate("health_visits", 300, seed=5, dirty=False)
    source = tmp_path / "visits.parquet"
    pq.write_table(table, source)
    scanned = runner.invoke(app, ["scan", str(source), "--json"])
    assert scanned.exit_code == 0
    import json

    findings = json.loads(scanned.output)
    assert findings["patient_resident_id"]["entity"] == "CN_RESIDENT_ID"
    assert findings["doctor_note"]["kind"] == "free_text"
    assert not any(v in scanned.output for v in table.column("patient_resident_id").to_pylist())

    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["deidentify", str(source), "-o", str(out), "--auto"])
    assert result.exit_code == 0, result.output
    assert "no strong identifier" in result.output
    text = out.read_text(encoding="utf-8")
    for column in ("patient_resident_id", "patient_phone"):
        assert not any(v in text for v in table.column(column).to_pylist())


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig"])
def test_scan_and_deidentify_read_chinese_encodings(tmp_path, encoding):
    """Government exports in GB18030/GBK (or UTF-8 with BOM) are read, not refused."""
    import json

    source = tmp_path / "visits.csv"
    rows = [f"{name},110101199003074{n:03d},1381234{n:04d},门诊" for n, name in
            enumerate(["张伟", "王芳", "李娜", "刘洋", "陈静"] * 8)]
    source.write_bytes(("姓名,身份证号,手机号,科室\n" + "\n".join(rows) + "\n").encode(encoding))
    scanned = runner.invoke(app, ["scan", str(source), "--json"])
    assert scanned.exit_code == 0, scanned.output
    assert json.loads(scanned.output)["手机号"]["entity"] == "CN_PHONE"
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["deidentify", str(source), "-o", str(out), "--auto"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "姓名" in text and "1381234" not in text


def test_deidentify_with_a_product_policy_names_missing_columns(tmp_path):
    source = tmp_path / "partial.csv"
    source.write_text("visit_id,patient_resident_id\nV0000000001,440305199001011234\n",
                      encoding="utf-8")
    result = runner.invoke(app, ["deidentify", str(source), "-o", str(tmp_path / "o.parquet"),
                                 "--product", "insurance_visits"])
    assert result.exit_code == 1
    assert "partial.csv" in result.output and "missing" in result.output
    both = runner.invoke(app, ["deidentify", str(source), "-o", "x.csv"])
    assert both.exit_code == 1 and "--product NAME" in both.output


def test_malformed_and_wrongly_encoded_files_get_one_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes("姓名,电话\n张三,13812345678\n".encode("gb18030") + b"\xff\xfe\xff\n")
    result = runner.invoke(app, ["scan", str(bad)])
    assert result.exit_code == 1 and "bad.csv" in result.output
    assert "encoding is not UTF-8, GBK or GB18030" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(app, ["scan", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_deidentify_fails_when_identifiers_remain_beyond_the_sample(tmp_path):
    # phone numbers only after the rows used to classify: the column is kept, and the full
    # residual scan must catch what the sample could not
    from yishu.cli.deid import SAMPLE_ROWS

    source = tmp_path / "late.csv"
    rows = ["id,remark"] + [f"{i},正常" for i in range(SAMPLE_ROWS)]
    rows += [f"{SAMPLE_ROWS + i},联系电话1381234{i:04d}" for i in range(20)]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["deidentify", str(source), "-o", str(tmp_path / "o.parquet"),
                                 "--auto"])
    assert result.exit_code == 1
    assert "residual identifiers in 'remark'" in result.output and "CN_PHONE" in result.output


def test_deidentify_output_checks(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a\n1\n", encoding="utf-8")
    for out, message in ((tmp_path / "x.txt", "must end with .parquet or .csv"),
                         (source, "would overwrite the input"),
                         (tmp_path / "nodir" / "o.csv", "no such folder")):
        result = runner.invoke(app, ["deidentify", str(source), "-o", str(out), "--auto"])
        assert result.exit_code == 1 and message in result.output


def test_bad_partition_and_bad_voucher_get_one_message(tmp_path):
    result = runner.invoke(app, ["run", "health_visits", "--partition", "../../x"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    (tmp_path / "voucher.json").write_text("{not json", encoding="utf-8")
    bad = runner.invoke(app, ["voucher", "verify", str(tmp_path)])
    assert bad.exit_code == 1 and "not a voucher" in bad.output
    key = runner.invoke(app, ["voucher", "verify", str(tmp_path), "--trusted-key", "/nope.pem"])
    assert key.exit_code == 1 and "no such file" in key.output
    pem = runner.invoke(app, ["voucher", "export-key"])
    assert pem.exit_code == 0 and "BEGIN PUBLIC KEY" in pem.output


def test_a_workbook_that_is_not_a_zip_is_one_message(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"this is not a workbook")
    for command in (["scan", str(fake)], ["deidentify", str(fake), "-o",
                                          str(tmp_path / "o.csv"), "--auto"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1 and "fake.xlsx: cannot be read" in result.output, \
            result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit


def test_sample_rows_have_an_upper_bound(tmp_path):
    result = runner.invoke(app, ["sample", "--rows", "100000000"])
    assert result.exit_code == 2 and "less than or equal to 5000000" in result.output


def test_huge_field_and_cut_file_say_what_is_wrong(tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_text("姓名,备注\n张三,\"" + "很长" * (5 << 20) + "\"\n", encoding="utf-8")
    result = runner.invoke(app, ["deidentify", str(huge), "-o", str(tmp_path / "o.csv"),
                                 "--auto"])
    assert result.exit_code == 1 and "runs over megabytes" in result.output, result.output
    cut = tmp_path / "cut.csv"
    cut.write_bytes(("姓名,电话\n" + "张三,13812345678\n" * 2000 + "李四,1381").encode()
                    + "二".encode()[:2])
    result = runner.invoke(app, ["deidentify", str(cut), "-o", str(tmp_path / "o2.csv"),
                                 "--auto"])
    assert result.exit_code == 1 and "cut short" in result.output, result.output
    assert "Traceback" not in result.output
