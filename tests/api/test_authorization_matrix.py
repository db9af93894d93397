"""The authorization matrix, on SQLite and on a real PostgreSQL server: operators × every
published product and version × every endpoint (REST and Delta Sharing) × every state a
request can meet. Exactly the licensed combinations are served, the others get the right status
and error code, each request is exactly one audit entry, and `yishu usage report` totals equal
the delivery entries. One world per state; the expectations come from the catalog's scenarios
and the published levels (conftest.VERSIONS), not from the code under test."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.api.conftest import VERSIONS, build_world
from yishu.access.integrity import verify
from yishu.api.delta_sharing import sign_link
from yishu.cli.main import app
from yishu.db.models import AuditEntry
from yishu.definitions import LEVELS
from yishu.pipeline.withdrawal import withdraw
from yishu.resources import Resources
from yishu.settings import Settings

# token of the world -> (operator, scenario, zone, max level) of its licence
LICENSED = {"valid": ("insurer", "insurance_claims", "insurance", "L3"),
            "level_L2": ("low", "insurance_claims", "insurance", "L2"),
            "open": ("mapper", "ev_mobility", "open", "L1"),
            "finance": ("lender", "inclusive_credit", "finance", "L3"),
            "over_quota": ("small", "insurance_claims", "insurance", "L3")}
# states whose token is refused before anything else: (status, error)
REFUSED = {"unknown_token": (401, "unknown_token"), "revoked_token": (401, "revoked_token"),
           "disabled_operator": (403, "operator_disabled"),
           "expired_licence": (403, "licence_expired"),
           "revoked_licence": (403, "licence_revoked")}
STATES = ["valid", "withdrawn_version", "over_quota", *REFUSED]
WITHDRAWN = {("insurance_visits", 2), ("ev_charging_stations", 1)}
PRODUCTS = sorted({p for p, *_ in VERSIONS})
LEVEL = {(p, v): level for p, v, level, _ in VERSIONS}
DS = "/delta-sharing/shares/{zone}/schemas/{scenario}/tables/{p}"


def requests_for(zone: str, scenario: str) -> list[tuple]:
    """(endpoint, method, path, product, version, kind) of every endpoint that needs a token;
    kind: `any` names no product, `product` a product, `version` a version, `deliver` a
    version whose bytes are metered. The file links are signed when sent."""
    out = [("list", "GET", "/api/v1/products", None, None, "any"),
           ("usage", "GET", "/api/v1/usage", None, None, "any"),
           ("ds shares", "GET", "/delta-sharing/shares", None, None, "any"),
           ("ds share", "GET", f"/delta-sharing/shares/{zone}", None, None, "any"),
           ("ds schemas", "GET", f"/delta-sharing/shares/{zone}/schemas", None, None, "any"),
           ("ds tables", "GET", f"/delta-sharing/shares/{zone}/schemas/{scenario}/tables",
            None, None, "any"),
           ("ds all-tables", "GET", f"/delta-sharing/shares/{zone}/all-tables", None, None,
            "any")]
    for p in PRODUCTS:
        table = DS.format(zone=zone, scenario=scenario, p=p)
        out += [("detail", "GET", f"/api/v1/products/{p}", p, None, "product"),
                ("versions", "GET", f"/api/v1/products/{p}/versions", p, None, "product"),
                ("ds version", "GET", f"{table}/version", p, None, "table"),
                ("ds version head", "HEAD", f"{table}/version", p, None, "table"),
                ("ds metadata", "GET", f"{table}/metadata", p, None, "table")]
    for p, v, *_ in VERSIONS:
        base = f"/api/v1/products/{p}/versions/{v}"
        out += [("voucher", "GET", f"{base}/voucher", p, v, "version"),
                ("download parquet", "GET", f"{base}/download?format=parquet", p, v, "deliver"),
                ("download csv", "GET", f"{base}/download?format=csv", p, v, "deliver"),
                ("ds query", "POST", DS.format(zone=zone, scenario=scenario, p=p) + "/query",
                 p, v, "version"),
                ("ds file head", "HEAD", "link", p, v, "version"),
                ("ds file", "GET", "link", p, v, "deliver")]
    return out


def expected(res, state: str, token_key: str, product, version, kind) -> tuple[int, str]:
    """(status, error) the request must get; error is None when it is served."""
    if state in REFUSED:
        return REFUSED[state]
    _, scenario, _, max_level = LICENSED[token_key]
    if kind == "any":
        return 200, None
    if product not in res.catalog.scenarios[scenario].products:
        return 403, "product_outside_scenario"
    allowed = [(p, v) for p, v, level, _ in VERSIONS if p == product
               and LEVELS.index(level) <= LEVELS.index(max_level)]
    deliverable = [k for k in allowed if state != "withdrawn_version" or k not in WITHDRAWN]
    if kind == "product":
        return 200, None
    if kind == "table":  # a table's version is its latest deliverable one
        return (200, None) if deliverable else (404, "no_version")
    if (product, version) not in allowed:
        return 403, "level_too_high"
    if (product, version) not in deliverable:
        return 403, "withdrawn_version"
    if kind == "deliver" and state == "over_quota":
        return 429, "quota_exceeded"
    return 200, None


def _last_seq(res) -> int:
    with res.db.session() as s:
        return s.scalar(select(func.max(AuditEntry.seq))) or 0


def _entries_after(res, seq: int) -> list[AuditEntry]:
    with res.db.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.seq > seq)
                              .order_by(AuditEntry.seq)))


def _send(world, token, method, path, product, version):
    before = _last_seq(world.res)
    if path == "link":  # a link signed by the bureau for this token, as a query hands out
        expires = int(time.time()) + 60
        token_id = token.split("_")[1]
        signature = sign_link(world.res, token_id, product, version, before, expires)
        path = (f"/delta-sharing/files/{product}/{version}/data.parquet?t={token_id}"
                f"&q={before}&e={expires}&s={signature}")
    headers = {"Authorization": f"Bearer {token}"}
    if method == "POST":
        return before, world.client.post(path, headers=headers, json={"version": version})
    return before, world.client.request(method, path, headers=headers)


def _check_served(world, endpoint, response, token_key, product, version):
    """What a served answer says matches the licence (beyond its status)."""
    operator, scenario, _, max_level = LICENSED[token_key]
    if endpoint == "list":
        listed = {p["product"] for p in response.json()["products"] if p["latest_version"]}
        assert listed == {p for p, v, level, _ in VERSIONS
                          if p in world.res.catalog.scenarios[scenario].products
                          and LEVELS.index(level) <= LEVELS.index(max_level)
                          and (p, v) not in world.withdrawn}
    elif endpoint == "versions":
        assert [v["version"] for v in response.json()["versions"]] == [
            v for p, v, level, _ in VERSIONS
            if p == product and LEVELS.index(level) <= LEVELS.index(max_level)]
    elif endpoint.startswith("download"):
        voucher = world.versions[(product, version)]
        fmt = endpoint.split()[1]
        assert response.headers["x-yishu-sha256"] == voucher["body"]["files"][f"data.{fmt}"]
    elif endpoint == "ds query":
        file = json.loads(response.text.splitlines()[2])["file"]
        assert f"/files/{product}/{version}/" in file["url"]


def _world(backend: str, request, tmp_path):
    db = {} if backend == "sqlite" else {"db_url": request.getfixturevalue("pg_database")}
    world = build_world(Resources.from_settings(Settings.for_home(tmp_path / "home", **db)))
    from yishu.db.queries import published_versions

    world.versions = {(v.product, v.version): v.voucher
                      for v in published_versions(world.res.db)}
    world.withdrawn = set()
    return world


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("state", STATES)
def test_authorization_matrix_over_every_product_and_endpoint(backend, state, request,
                                                              tmp_path):
    world = _world(backend, request, tmp_path)
    if state == "withdrawn_version":
        for product, version in sorted(WITHDRAWN):
            withdraw(world.res, product, version, "matrix", actor="admin")
        world.withdrawn = WITHDRAWN
    if state == "over_quota":  # its one download of the month is used
        assert world.client.get("/api/v1/products/insurance_visits/versions/1/download",
                                headers={"Authorization": f"Bearer {world.tokens[state]}"}
                                ).status_code == 200
    keys = [state] if state in REFUSED or state == "over_quota" else [
        k for k in LICENSED if k != "over_quota"]
    seen = set()
    for key in keys:
        operator, scenario, zone, _ = LICENSED.get(key, LICENSED["valid"])
        for endpoint, method, path, product, version, kind in requests_for(zone, scenario):
            status, error = expected(world.res, state, key, product, version, kind)
            before, response = _send(world, world.tokens[key], method, path, product, version)
            where = (state, key, endpoint, product, version, response.text[:200])
            assert response.status_code == status, where
            seen.add(error)
            if error and method != "HEAD":
                assert response.json()["error"] == error, where
                assert response.json()["what_to_do"], where
            log = _entries_after(world.res, before)
            assert len(log) == 1, (where, [e.action for e in log])
            action = "api.refuse" if error else "api.deliver" if kind == "deliver" and (
                method == "GET") else "api.request"
            assert (log[0].action, log[0].detail["status"]) == (action, status), where
            if state not in REFUSED:
                assert log[0].detail["operator"] == operator, where
            if not error:
                _check_served(world, endpoint, response, key, product, version)
    # the matrix meets every refusal its state stands for
    assert {"valid": {None, "product_outside_scenario", "level_too_high"},
            "withdrawn_version": {None, "product_outside_scenario", "level_too_high",
                                  "withdrawn_version", "no_version"},
            "over_quota": {None, "product_outside_scenario", "quota_exceeded"}}.get(
        state, {REFUSED.get(state, (0, None))[1]}) == seen
    assert verify(world.res) == []
    _usage_report_equals_the_deliveries(world)


def _usage_report_equals_the_deliveries(world):
    result = CliRunner().invoke(app, ["usage", "report", "--json"], obj=world.res)
    assert result.exit_code == 0, result.output
    totals = {}
    for row in json.loads(result.output):
        got = totals.setdefault(row["operator"], [0, 0, 0])
        for i, name in enumerate(("downloads", "rows", "bytes")):
            got[i] += row[name]
    delivered = {}
    for e in _entries_after(world.res, 0):
        if e.action == "api.deliver":
            got = delivered.setdefault(e.detail["operator"], [0, 0, 0])
            got[0], got[1], got[2] = got[0] + 1, got[1] + e.detail["rows"], \
                got[2] + e.detail["bytes"]
    assert totals == delivered
