"""The two sample sources that are not files: the power company's SQLite database (connector
sql) and the transport bureau's paginated open-data API (connector http)."""

import json
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from yishu.pipeline import batches
from yishu.resources import Resources
from yishu.samples import chargers, generate, power, write_sample
from yishu.settings import Settings
from yishu.sources.collect import SourceUnavailable, collect

PARTITION = "2026-11-01"


def test_bills_reference_the_registry_for_twelve_months():
    bills = power.power_usage(300, seed=5, partition=PARTITION)
    registry = set(generate("market_enterprise", 300, seed=5, partition=PARTITION)
                   .column("uscc").to_pylist())
    usccs = set(bills.column("uscc").to_pylist())
    assert usccs <= registry and len(usccs) > 0.7 * len(registry)
    assert sorted(set(bills.column("billing_month").to_pylist())) == \
        [f"2025-{m}" for m in ("11", "12")] + [f"2026-{m:02d}" for m in range(1, 11)]
    assert bills.num_rows == len(usccs) * 12
    assert len(set(bills.column("bill_id").to_pylist())) == bills.num_rows  # the key
    assert power.power_usage(300, seed=5, partition=PARTITION).equals(bills)


def _res(tmp_path, **environment) -> Resources:
    return Resources.from_settings(Settings.for_home(tmp_path / "home",
                                                     environment=environment))


def test_the_department_database_is_collected_whole_and_checked_against_the_registry(
        tmp_path):
    res = _res(tmp_path)
    source = res.catalog.sources["power_usage"]
    path = res.storage.department_database("power_usage")
    # the catalog's URL names the file the samples write
    assert sa.make_url(source.sql.url.format(home=res.settings.home, repo=res.settings.repo)
                       ).database == str(path)
    write_sample(res.storage, "market_enterprise", PARTITION, 300, seed=5)
    registry = collect(res.catalog.sources["market_enterprise"], PARTITION,
                       settings=res.settings, storage=res.storage)
    assert batches.validate_and_land(res, registry).status == "landed"

    power.write_database(path, 300, seed=5, partition=PARTITION)
    first = collect(source, PARTITION, settings=res.settings, storage=res.storage)
    power.write_database(path, 300, seed=5, partition=PARTITION)  # the demo writes it again
    again = collect(source, PARTITION, settings=res.settings, storage=res.storage)
    assert first.sha256 == again.sha256 and first.rows == again.rows
    bills = power.power_usage(300, seed=5, partition=PARTITION)
    assert first.rows == bills.num_rows
    assert pq.read_table(first.snapshot).column("kwh").to_pylist()[:3] == \
        [str(v) for v in bills.column("kwh").to_pylist()[:3]]

    batch = batches.validate_and_land(res, first)
    assert batch.status == "landed", batch.reason
    result = json.loads(Path(batch.validation_path).read_text(encoding="utf-8"))
    names = result["consistency"]["checks"][0]
    assert names["column"] == "customer_name" and names["authority"] == "market_enterprise"
    old = sum(1 for name in bills.column("customer_name").to_pylist()
              if "实业有限公司" in name or name.endswith("（原名）"))
    assert 0 < names["disagreed"] == old  # the planted old names, and nothing else


def test_the_api_pages_are_capped_and_end_with_an_empty_page():
    records = chargers.charger_records()
    assert len(records) == 1587  # one per UrbanEV station
    assert all(r["dc_piles"] + r["ac_piles"] > 0 for r in records)
    with chargers.serve(records) as url:
        first = httpx.get(url, params={"page": 1, "size": 1000}).json()["data"]
        assert first["size"] == chargers.MAX_PAGE_SIZE and len(first["items"]) == 100
        last = httpx.get(url, params={"page": 16, "size": 100}).json()["data"]
        assert len(last["items"]) == 87 and last["total"] == 1587
        assert httpx.get(url, params={"page": 17, "size": 100}).json()["data"]["items"] == []
        assert httpx.get(url, params={"page": "x"}).status_code == 400
        assert httpx.get(url.replace("/chargers", "/nothing")).status_code == 404


def test_the_api_is_collected_page_by_page_and_its_address_is_never_kept(tmp_path):
    source_name = "transport_chargers"
    shas = set()
    for run in ("one", "two"):  # two servers, two ports: the same snapshot
        with chargers.serve(chargers.charger_records()) as url:
            res = _res(tmp_path / run, TRANSPORT_CHARGERS_URL=url)
            result = collect(res.catalog.sources[source_name], PARTITION,
                             settings=res.settings, storage=res.storage)
        raw = Path(result.original).read_text(encoding="utf-8")
        port = url.split(":")[2].split("/")[0]
        assert "127.0.0.1" not in raw and f":{port}/" not in raw
        pages = [json.loads(line) for line in raw.splitlines()]
        assert len(pages) == 17  # 16 full or partial pages and the empty one that ends it
        assert pages[0]["url"] == "$TRANSPORT_CHARGERS_URL?size=100&page=1"
        assert result.rows == 1587
        shas.add(result.sha256)
        batch = batches.validate_and_land(res, result)
        assert batch.status == "landed" and batch.quality_grade == "A", batch.reason
    assert len(shas) == 1


def test_without_the_api_address_the_collect_says_which_variable_to_set(tmp_path):
    res = _res(tmp_path)
    with pytest.raises(SourceUnavailable, match="http.url_env: the environment variable "
                       "TRANSPORT_CHARGERS_URL is not set: set it to the API's URL"):
        collect(res.catalog.sources["transport_chargers"], PARTITION, settings=res.settings,
                storage=res.storage)


def test_an_unreachable_api_is_named_by_its_variable_not_its_address(tmp_path):
    with chargers.serve([]) as url:
        pass  # the server is stopped: nothing listens on that port any more
    res = _res(tmp_path, TRANSPORT_CHARGERS_URL=url)
    source = res.catalog.sources["transport_chargers"]
    import dataclasses

    quick = dataclasses.replace(source, http=dataclasses.replace(source.http, retries=0))
    with pytest.raises(SourceUnavailable) as exc:
        collect(quick, PARTITION, settings=res.settings, storage=res.storage)
    assert str(exc.value).startswith("$TRANSPORT_CHARGERS_URL: no answer after 1 attempt(s)")
    assert "127.0.0.1" not in str(exc.value)
