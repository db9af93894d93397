"""A product of two sources: the registry and the power company's bills, joined by USCC.

The join keeps only the columns the product names, each read from its authoritative source;
it waits for a batch of every source; its voucher lists both snapshots and its grade is the
worst of theirs."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yishu.db.queries import get_batch
from yishu.pipeline import batches, join
from yishu.pipeline import products as stages
from yishu.samples import power
from yishu.sources.collect import collect

PRODUCT = "enterprise_credit_profile"


def _snapshot(folder: Path, name: str, columns: dict) -> str:
    path = folder / f"{name}.parquet"
    pq.write_table(pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}), path)
    return str(path)


def test_rows_meet_their_one_authoritative_record(res, tmp_path):
    cat = res.catalog
    registry = _snapshot(tmp_path, "registry", {
        "uscc": ["A1", "B2", "B2", "C3"],
        "enterprise_name": ["甲公司", "乙公司", "乙公司（重复）", "丙公司"],
        "district": ["440304", "440305", "440305", "440306"],
        "industry": ["C", "F", "F", "I"], "registered_capital": ["10", "20", "20", "30"],
        "established_date": ["2001-01-01", "2002-02-02", "2002-02-02", "2003-03-03"],
        "legal_rep_resident_id": ["never read"] * 4})
    bills = _snapshot(tmp_path, "bills", {
        "uscc": ["B2", "A1", "ZZ", None, "A1", " "],
        "customer_name": ["乙公司旧名"] * 6,  # the department's copy: never read
        "billing_month": ["2026-09", "2026-09", "2026-09", "2026-09", "2026-10", "2026-10"],
        "kwh": ["1", "2", "3", "4", "5", "6"], "fee": ["0.1"] * 6,
        "payment_status": ["按期缴清"] * 6})

    table, report = join.joined(cat, cat.products[PRODUCT],
                                {"market_enterprise": registry, "power_usage": bills})

    assert table.column_names == join.referenced(cat.products[PRODUCT])
    assert all(name.startswith(("market_enterprise.", "power_usage.")) for name in
               table.column_names)
    rows = table.to_pylist()
    # in the sources' order (registry, then bills); the unknown, null and blank keys are out
    assert [(r["market_enterprise.uscc"], r["power_usage.kwh"]) for r in rows] == [
        ("A1", "2"), ("A1", "5"), ("B2", "1")]
    # attributes come from the registry, its first record of a repeated key
    assert [r["market_enterprise.enterprise_name"] for r in rows] == ["甲公司", "甲公司", "乙公司"]
    assert report["sources"]["market_enterprise"] == {"rows": 4, "without_key": 0,
                                                      "repeated_keys": 1, "matched": 2}
    assert report["sources"]["power_usage"] == {"rows": 6, "without_key": 2, "matched": 3}
    assert report["rows"] == 3 and report["on"] == "uscc"


def test_the_grade_of_several_sources_is_the_worst():
    assert join.worst_grade([{"grade": "A"}, {"grade": "C"}, {"grade": "B"}]) == "C"
    assert join.worst_grade([{"grade": "A"}, {"grade": None}]) is None  # ungraded: E


@pytest.fixture(scope="module")
def bills(enterprises, enterprise_partition):
    """The registry of the `enterprises` state folder and its power company's bills, landed."""
    res = enterprises
    source = res.catalog.sources["power_usage"]
    power.write_database(res.storage.department_database("power_usage"), 400, seed=3,
                         partition=enterprise_partition)
    collected = collect(source, enterprise_partition, settings=res.settings,
                        storage=res.storage)
    assert batches.validate_and_land(res, collected).status == "landed"
    return res


def test_a_missing_source_stops_the_join_with_its_name(enterprises, enterprise_partition):
    """Only the registry has landed yet (the tests below land the bills); before its
    partition nothing has."""
    product = enterprises.catalog.products[PRODUCT]
    with pytest.raises(stages.NothingToPublish, match="source 'power_usage' has no landed "
                       r"or released batch up to 2026-10-05 \(the join needs a batch of "
                       r"every source: market_enterprise, power_usage\)"):
        stages.build(enterprises, PRODUCT, enterprise_partition)
    with pytest.raises(join.NothingToPublish, match="sources 'market_enterprise', "
                       "'power_usage' have no landed or released batch up to 2026-10-04"):
        join.usable_inputs(enterprises, product, "2026-10-04")


def _publish(res, partition):
    ref = stages.build(res, PRODUCT, partition)
    for stage in (stages.deidentify, stages.check_risk, stages.publish):
        ref = stage(res, ref)
    return ref


def test_the_joined_product_is_published_with_both_snapshots(bills, enterprise_partition):
    res = bills
    ref = _publish(res, enterprise_partition)
    assert ref.blocked is None and ref.version and not ref.unchanged, ref
    folder = Path(ref.path)
    voucher = json.loads((folder / "voucher.json").read_text(encoding="utf-8"))["body"]
    landed = {name: get_batch(res.db, name, enterprise_partition)
              for name in ("market_enterprise", "power_usage")}
    assert voucher["lineage"] == [
        {"source": name, "partition": enterprise_partition,
         "snapshot_sha256": landed[name].snapshot_sha256} for name in landed]
    assert voucher["quality_grade"] == join.worst_grade(
        [{"grade": b.quality_grade} for b in landed.values()])

    table = pq.read_table(folder / "data.parquet")
    assert table.column_names == list(res.catalog.products[PRODUCT].columns)
    registry = pq.read_table(join.usable_inputs(res, res.catalog.products[PRODUCT],
                                                enterprise_partition)[0]["snapshot"])
    names = dict(zip(registry.column("uscc").to_pylist(),
                     registry.column("enterprise_name").to_pylist(), strict=True))
    published = table.to_pylist()
    assert published and all(r["enterprise_name"] == names[r["uscc"]] for r in published)
    assert not any(r["uscc"].startswith("92") for r in published)  # individual businesses
    report = json.loads((folder / "deid_report.json").read_text(encoding="utf-8"))
    assert report["join"]["sources"]["power_usage"]["matched"] == \
        report["join"]["sources"]["power_usage"]["rows"]  # every bill's enterprise is known
    assert report["risk"]["k_achieved"] >= res.catalog.zones["finance"].k

    # the same inputs publish nothing new; a new snapshot of either source does
    assert _publish(res, enterprise_partition).unchanged is True
    # a month later the department's table holds another month of the same enterprises
    power.write_database(res.storage.department_database("power_usage"), 400, seed=3,
                         partition="2026-11-05")
    collected = collect(res.catalog.sources["power_usage"], enterprise_partition,
                        settings=res.settings, storage=res.storage)
    assert batches.validate_and_land(res, collected).status == "landed"
    again = _publish(res, enterprise_partition)
    assert again.blocked is None, again.blocked
    assert again.version == ref.version + 1 and not again.unchanged


def test_a_weak_source_stops_the_product_and_is_named(bills, enterprise_partition):
    res = bills
    ref = stages.build(res, PRODUCT, enterprise_partition)
    weak = [{**i, "grade": "D"} if i["source"] == "power_usage" else i for i in ref.inputs]
    ref = ref.but(inputs=tuple(weak), source_grade=join.worst_grade(weak))
    ref = stages.check_risk(res, stages.deidentify(res, ref))
    blocked = stages.publish(res, ref)
    assert blocked.blocked.startswith("quality grade D of source 'power_usage' is below the "
                                      "zone's minimum C")
