"""A state folder with published versions (written here, signed with the bureau key) and
operators with licences in every state a request can meet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from yishu.access import audit, licences, tokens
from yishu.api.app import create_app
from yishu.db.models import ProductVersion
from yishu.pipeline.voucher import file_sha256, sign

TODAY = dt.date.today()
# (product, version, level, rows): insurance_visits v2 is above an L2 licence
VERSIONS = [("insurance_visits", 1, "L2", 3), ("insurance_visits", 2, "L3", 4),
            ("enterprise_profile", 1, "L3", 2), ("ev_charging_stations", 1, "L1", 5)]


def publish(res, product: str, version: int, level: str, rows: int) -> None:
    spec = res.catalog.products[product]
    folder = res.storage.product_version_dir(spec.zone, product, version)
    table = pa.table({"id": list(range(rows)), "name": [f"站点{i}" for i in range(rows)]})
    pq.write_table(table, folder / "data.parquet")
    pv.write_csv(table, folder / "data.csv")
    (folder / "deid_report.json").write_text("{}")
    body = {"product": product, "version": version, "zone": spec.zone, "rows": rows,
            "security_level": level, "files": {n: file_sha256(folder / n) for n in (
                "data.parquet", "data.csv", "deid_report.json")}, "schema": {}}
    voucher = sign(body, res.keys)
    with res.db.session() as s:  # as publishing does: the version and its entry together
        s.add(ProductVersion(product=product, zone=spec.zone, version=version,
                             partition="2026-11-01", rows=rows, security_level=level,
                             quality_grade="A", fingerprint=f"{product}{version}",
                             path=str(folder), voucher=voucher))
        audit.append(res, s, "product.publish", f"{spec.zone}/{product}/v{version}",
                     {"rows": rows, "level": level, "voucher_signature": voucher["signature"]})
        s.commit()


@dataclass
class World:
    res: object
    client: TestClient
    tokens: dict  # state -> token


@pytest.fixture
def world(fresh_res) -> World:
    return build_world(fresh_res)


def build_world(res) -> World:
    """Publish VERSIONS on `res` (an empty state folder) and make one token per state."""
    res.keys.signing_key()  # minted first, as publishing does, before any version exists
    for spec in VERSIONS:
        publish(res, *spec)
    later = TODAY + dt.timedelta(days=300)
    made = {}

    def operator(name, uscc, scenario, level, **quota):
        licences.add_operator(res, name, uscc)
        lic = licences.grant(res, name, scenario, level, later, **quota)
        return lic, tokens.issue(res, lic.id, 30)[0]

    _, made["valid"] = operator("insurer", "91440300MA5F000007", "insurance_claims", "L3")
    _, made["level_L2"] = operator("low", "913100007109325157", "insurance_claims", "L2")
    _, made["open"] = operator("mapper", "91110000100000001W", "ev_mobility", "L1")
    _, made["finance"] = operator("lender", "91440300MA5F00006R", "inclusive_credit", "L3")
    lic, made["over_quota"] = operator("small", "91440300MA5F00001A", "insurance_claims",
                                       "L3", quota_downloads=1)
    lic, made["revoked_licence"] = operator("gone", "91440300MA5F00002D",
                                            "insurance_claims", "L3")
    licences.revoke(res, lic.id, "breach")
    _, made["disabled_operator"] = operator("off", "91440300MA5F00003G", "insurance_claims",
                                            "L3")
    licences.disable_operator(res, "off", "contract ended")
    lic, made["expired_licence"] = operator("old", "91440300MA5F00004K", "insurance_claims",
                                            "L3")
    with res.db.session() as s:  # ended yesterday (grant refuses a past date, so edit it)
        from yishu.db.models import Licence
        s.get(Licence, lic.id).valid_until = TODAY - dt.timedelta(days=1)
        s.commit()
    lic, made["revoked_token"] = operator("tokless", "91440300MA5F00005N", "insurance_claims",
                                          "L3")
    tokens.revoke(res, made["revoked_token"].split("_")[1])
    made["unknown_token"] = "yst_0123456789abcdef_" + "A" * 43
    return World(res, TestClient(create_app(res)), made)
