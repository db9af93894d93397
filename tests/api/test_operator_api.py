"""The operator API: an authorization matrix (every state × every endpoint gets exactly the
right status, and every request is one audit entry), downloads that match their voucher,
metering and quotas."""

from __future__ import annotations

import hashlib
import io

import pyarrow.parquet as pq
import pytest

from yishu.access import audit, metering
from yishu.access.integrity import verify

ENDPOINTS = {
    "list": "/api/v1/products",
    "detail": "/api/v1/products/{p}",
    "versions": "/api/v1/products/{p}/versions",
    "voucher": "/api/v1/products/{p}/versions/{v}/voucher",
    "download": "/api/v1/products/{p}/versions/{v}/download",
}
# state -> (product, version, expected status for endpoints that name a version,
#           expected status for the others)
CASES = {
    "valid": ("insurance_visits", 2, 200, 200),
    "unknown_token": ("insurance_visits", 1, 401, 401),
    "revoked_token": ("insurance_visits", 1, 401, 401),
    "disabled_operator": ("insurance_visits", 1, 403, 403),
    "expired_licence": ("insurance_visits", 1, 403, 403),
    "revoked_licence": ("insurance_visits", 1, 403, 403),
    "outside_scenario": ("enterprise_profile", 1, 403, 403),  # insurer asks for finance
    "level_too_high": ("insurance_visits", 2, 403, 200),  # an L2 licence, an L3 version
    "open_zone": ("ev_charging_stations", 1, 200, 200),
}
TOKEN_OF = {"outside_scenario": "valid", "level_too_high": "level_L2", "open_zone": "open"}


def _get(world, path, token, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return world.client.get(path, headers=headers, params=params)


@pytest.mark.parametrize("state", sorted(CASES))
def test_authorization_matrix(world, state):
    product, version, versioned, other = CASES[state]
    token = world.tokens[TOKEN_OF.get(state, state)]
    for endpoint, template in ENDPOINTS.items():
        before = len(audit.entries(world.res.db))
        response = _get(world, template.format(p=product, v=version), token)
        expected = versioned if "{v}" in template else other
        if endpoint == "list" and state in ("outside_scenario", "level_too_high"):
            expected = 200  # listing names no product: it lists what the licence allows
        assert response.status_code == expected, (state, endpoint, response.text)
        if expected != 200:
            body = response.json()
            assert set(body) == {"error", "detail", "what_to_do"} and body["what_to_do"]
        log = audit.entries(world.res.db)[before:]
        assert len(log) == 1, (state, endpoint, [e.action for e in log])
        action = {200: "api.deliver" if endpoint == "download" else "api.request"}.get(
            response.status_code, "api.refuse")
        assert log[0].action == action and log[0].detail["status"] == response.status_code
    assert verify(world.res) == []


def test_listing_shows_only_the_scenario_and_level(world):
    listed = _get(world, ENDPOINTS["list"], world.tokens["level_L2"]).json()
    assert [(p["product"], p["latest_version"]) for p in listed["products"]] == [
        ("insurance_visits", 1)]  # v2 is L3
    versions = _get(world, "/api/v1/products/insurance_visits/versions",
                    world.tokens["valid"]).json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    opened = _get(world, ENDPOINTS["list"], world.tokens["open"]).json()
    assert {p["product"] for p in opened["products"]} == {"ev_charging_stations",
                                                          "station_inspection_log"}


def test_a_download_is_the_signed_file_and_is_metered(world):
    path = "/api/v1/products/insurance_visits/versions/2/download"
    for fmt in ("parquet", "csv"):
        response = _get(world, path, world.tokens["valid"], format=fmt)
        assert response.status_code == 200
        digest = hashlib.sha256(response.content).hexdigest()
        assert response.headers["x-yishu-sha256"] == digest
        assert int(response.headers["content-length"]) == len(response.content)
        voucher = _get(world, path.replace("download", "voucher"), world.tokens["valid"]).json()
        assert voucher["body"]["files"][f"data.{fmt}"] == digest
    assert pq.read_table(io.BytesIO(_get(world, path, world.tokens["valid"]).content)
                         ).num_rows == 4
    (row,) = metering.report(world.res, operator="insurer")
    assert (row["downloads"], row["rows"], row["scenario"]) == (3, 12, "insurance_claims")
    delivered = [e for e in audit.entries(world.res.db) if e.action == "api.deliver"]
    assert sum(e.detail["rows"] for e in delivered) == row["rows"]
    assert sum(e.detail["bytes"] for e in delivered) == row["bytes"]
    usage = _get(world, "/api/v1/usage", world.tokens["valid"]).json()
    assert (usage["downloads"], usage["rows"]) == (3, 12)


def test_quota_is_enforced_before_serving(world):
    path = "/api/v1/products/insurance_visits/versions/1/download"
    assert _get(world, path, world.tokens["over_quota"]).status_code == 200
    refused = _get(world, path, world.tokens["over_quota"])
    assert refused.status_code == 429 and refused.json()["error"] == "quota_exceeded"
    (row,) = metering.report(world.res, operator="small")
    assert row["downloads"] == 1  # the refused one is not metered, only audited
    assert audit.entries(world.res.db)[-1].detail["status"] == 429


def test_bad_parameters_and_unknown_names_are_refused_clearly(world):
    token = world.tokens["valid"]
    for path, params, status, error in [
            ("/api/v1/products/insurance_visits/versions/1/download", {"format": "xlsx"}, 422,
             "invalid_request"),
            ("/api/v1/products/insurance_visits/versions/abc/voucher", {}, 422,
             "invalid_request"),
            ("/api/v1/products/nope", {}, 404, "unknown_product"),
            ("/api/v1/products/insurance_visits/versions/9/voucher", {}, 404,
             "unknown_version")]:
        response = _get(world, path, token, **params)
        assert (response.status_code, response.json()["error"]) == (status, error), path
    no_header = world.client.get("/api/v1/products")
    assert no_header.status_code == 401 and no_header.headers["www-authenticate"] == "Bearer"
    basic = world.client.get("/api/v1/products", headers={"Authorization": f"Basic {token}"})
    assert basic.status_code == 401


def test_public_key_and_openapi_need_no_token(world):
    assert world.client.get("/api/v1/public-key").text == world.res.keys.public_key_pem()
    spec = world.client.get("/openapi.json").json()
    assert "/api/v1/products/{product}/versions/{version}/download" in spec["paths"]


def test_a_refusal_being_audited_does_not_hold_up_other_requests(world, monkeypatch):
    # the refusal's entry waits for a commit and a signed head: were the event loop to wait
    # for it, every other request of the worker would wait with it
    import asyncio
    import threading

    import httpx

    from yishu.access import audit

    entered, release, released_by_test = threading.Event(), threading.Event(), []
    real_sign = audit.sign_head

    def slow_sign(res, seq, head_hash):  # the refusal's head is signed only when released
        entered.set()
        released_by_test.append(release.wait(5))
        real_sign(res, seq, head_hash)

    monkeypatch.setattr(audit, "sign_head", slow_sign)

    async def requests():
        transport = httpx.ASGITransport(app=world.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            refused = asyncio.create_task(client.get("/api/v1/products"))  # no token
            while not entered.is_set():
                await asyncio.sleep(0.01)
            key = await client.get("/api/v1/public-key")  # answered while the refusal waits
            release.set()
            return (await refused).status_code, key.status_code

    assert asyncio.run(requests()) == (401, 200)
    assert released_by_test == [True]  # released after the other request, not by timeout
    assert audit.entries(world.res.db)[-1].action == "api.refuse"
