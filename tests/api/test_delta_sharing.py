"""Delta Sharing under /delta-sharing: a share is the licence's zone, a schema its scenario, a
table a product; files come as short-lived signed links that are checked again, metered once
and audited."""

from __future__ import annotations

import io
import json
import time
from urllib.parse import parse_qs, urlsplit

import pyarrow.parquet as pq

from yishu.access import audit, licences, metering, tokens
from yishu.api.delta_sharing import sign_link
from yishu.db.models import Delivery
from yishu.pipeline.withdrawal import withdraw

TABLE = "/delta-sharing/shares/insurance/schemas/insurance_claims/tables/insurance_visits"


def _h(token):
    return {"Authorization": f"Bearer {token}"}


def _query(world, token, body=None):
    response = world.client.post(f"{TABLE}/query", headers=_h(token), json=body or {})
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines()]
    return response, lines


def _deliveries(world):
    with world.res.db.session() as s:
        return s.query(Delivery).count()


def test_shares_schemas_and_tables_are_the_licence(world):
    client, token = world.client, world.tokens["valid"]
    assert client.get("/delta-sharing/shares", headers=_h(token)).json() == {
        "items": [{"name": "insurance"}]}
    assert client.get("/delta-sharing/shares/INSURANCE", headers=_h(token)).json() == {
        "share": {"name": "insurance"}}
    assert client.get("/delta-sharing/shares/insurance/schemas", headers=_h(token)).json()[
        "items"] == [{"name": "insurance_claims", "share": "insurance"}]
    table = {"name": "insurance_visits", "schema": "insurance_claims", "share": "insurance"}
    for path in ("/delta-sharing/shares/insurance/schemas/insurance_claims/tables",
                 "/delta-sharing/shares/insurance/all-tables"):
        assert client.get(path, headers=_h(token)).json() == {"items": [table]}
    other = client.get("/delta-sharing/shares/finance/schemas", headers=_h(token))
    assert other.status_code == 404 and other.json()["error"] == "unknown_share"
    outside = client.get("/delta-sharing/shares/insurance/schemas/insurance_claims/tables/"
                         "enterprise_profile/version", headers=_h(token))
    assert outside.status_code == 403 and outside.json()["error"] == "product_outside_scenario"


def test_table_version_is_the_latest_deliverable_one(world):
    client = world.client
    for method in (client.get, client.head):
        assert method(f"{TABLE}/version", headers=_h(world.tokens["valid"])).headers[
            "delta-table-version"] == "2"
    # v2 is L3: an L2 licence reads v1
    assert client.get(f"{TABLE}/version", headers=_h(world.tokens["level_L2"])).headers[
        "delta-table-version"] == "1"
    withdraw(world.res, "insurance_visits", 2, "wrong policy", actor="admin")
    assert client.get(f"{TABLE}/version", headers=_h(world.tokens["valid"])).headers[
        "delta-table-version"] == "1"


def test_metadata_is_protocol_and_a_spark_schema(world):
    response = world.client.get(f"{TABLE}/metadata", headers=_h(world.tokens["valid"]))
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert response.headers["delta-table-version"] == "2"
    protocol, meta = (json.loads(line) for line in response.text.splitlines())
    assert protocol == {"protocol": {"minReaderVersion": 1}}
    meta = meta["metaData"]
    assert meta["format"] == {"provider": "parquet"} and meta["partitionColumns"] == []
    assert json.loads(meta["schemaString"]) == {"type": "struct", "fields": [
        {"name": "id", "type": "long", "nullable": True, "metadata": {}},
        {"name": "name", "type": "string", "nullable": True, "metadata": {}}]}


def test_query_links_serve_the_file_metered_once(world):
    response, lines = _query(world, world.tokens["valid"])
    assert response.headers["delta-table-version"] == "2"
    file = lines[2]["file"]
    assert json.loads(file["stats"]) == {"numRecords": 4} and file["partitionValues"] == {}
    before = _deliveries(world)
    head = world.client.head(file["url"])
    assert head.status_code == 200 and int(head.headers["content-length"]) == file["size"]
    got = world.client.get(file["url"])
    assert got.status_code == 200 and len(got.content) == file["size"]
    assert pq.read_table(io.BytesIO(got.content)).num_rows == 4
    ranged = world.client.get(file["url"], headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.content == b"PAR1"
    assert _deliveries(world) == before + 1  # a link is one delivery, however it is read
    delivered = [e for e in audit.entries(world.res.db) if e.action == "api.deliver"]
    assert delivered[-1].detail["rows"] == 4 and delivered[-1].detail["version"] == 2
    # an older version on request
    _, lines = _query(world, world.tokens["valid"], {"version": 1})
    assert json.loads(lines[2]["file"]["stats"])["numRecords"] == 3
    for bad in ({"version": True}, {"version": "1"}, {"timestamp": "2026-01-01T00:00:00Z"}):
        refused = world.client.post(f"{TABLE}/query", headers=_h(world.tokens["valid"]),
                                    json=bad)
        assert refused.status_code == 400, bad
        assert set(refused.json()) == {"error", "detail", "what_to_do"}


def test_tampered_expired_and_revoked_links_are_refused(world):
    _, lines = _query(world, world.tokens["valid"])
    url = lines[2]["file"]["url"]
    before = _deliveries(world)
    for tampered in (url.replace("/2/data.parquet", "/1/data.parquet"),
                     url[:-1] + ("0" if url[-1] != "0" else "1"),
                     url.split("&s=")[0]):
        refused = world.client.get(tampered)
        assert refused.status_code == 403 and refused.json()["error"] == "invalid_link"
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    past = int(time.time()) - 1
    expired = (f"{TABLE.split('/shares')[0]}/files/insurance_visits/2/data.parquet?t="
               f"{query['t']}&q={query['q']}&e={past}&s="
               f"{sign_link(world.res, query['t'], 'insurance_visits', 2, int(query['q']), past)}")
    refused = world.client.get(expired)
    assert refused.status_code == 403 and refused.json()["error"] == "expired_link"
    tokens.revoke(world.res, query["t"])
    refused = world.client.get(url)
    assert refused.status_code == 401 and refused.json()["error"] == "revoked_token"
    assert _deliveries(world) == before
    refusals = [e for e in audit.entries(world.res.db) if e.action == "api.refuse"]
    assert [e.detail["error"] for e in refusals[-5:]] == [
        "invalid_link"] * 3 + ["expired_link", "revoked_token"]


def test_a_licence_revoked_after_the_query_stops_its_links(world):
    _, lines = _query(world, world.tokens["valid"])
    lic = [lic for lic, op in licences.list_licences(world.res) if op.name == "insurer"][0]
    licences.revoke(world.res, lic.id, "breach")
    refused = world.client.get(lines[2]["file"]["url"])
    assert refused.status_code == 403 and refused.json()["error"] == "licence_revoked"


def test_quota_and_refusals_have_the_api_shape(world):
    token = world.tokens["over_quota"]  # one download a month
    _, lines = _query(world, token)
    assert world.client.get(lines[2]["file"]["url"]).status_code == 200
    _, lines = _query(world, token)
    refused = world.client.get(lines[2]["file"]["url"])
    assert refused.status_code == 429 and refused.json()["error"] == "quota_exceeded"
    for state, status in (("unknown_token", 401), ("revoked_token", 401),
                          ("disabled_operator", 403), ("expired_licence", 403)):
        refused = world.client.get("/delta-sharing/shares", headers=_h(world.tokens[state]))
        assert refused.status_code == status
        assert set(refused.json()) == {"error", "detail", "what_to_do"}
    assert metering.report(world.res, operator="small")[0]["downloads"] == 1


def test_links_keep_the_mount_prefix_of_airflow(world):
    """Inside Airflow's API server the app is mounted under /yishu: links must say so."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from yishu.api.app import create_app

    airflow = FastAPI()
    airflow.mount("/yishu", create_app(world.res))
    client = TestClient(airflow)
    response = client.post(f"/yishu{TABLE}/query", headers=_h(world.tokens["valid"]), json={})
    url = json.loads(response.text.splitlines()[2])["file"]["url"]
    assert url.startswith("http://testserver/yishu/delta-sharing/files/insurance_visits/2/")
    assert client.get(url).status_code == 200


def test_a_column_without_a_spark_type_is_a_clear_refusal(world):
    import pyarrow as pa

    from tests.api.conftest import publish

    publish(world.res, "ev_charging_stations", 2, "L1", 2)
    folder = world.res.storage.product_version_dir("open", "ev_charging_stations", 2)
    pq.write_table(pa.table({"n": pa.array([1, 2], pa.uint64())}), folder / "data.parquet")
    response = world.client.get("/delta-sharing/shares/open/schemas/ev_mobility/tables/"
                                "ev_charging_stations/metadata", headers=_h(world.tokens["open"]))
    assert response.status_code == 501 and response.json()["error"] == "unsupported_schema"
    assert "uint64" in response.json()["detail"]
