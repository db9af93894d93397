"""Withdrawal: a withdrawn version is never delivered again, is listed as withdrawn, and the
bureau's signed revocation list makes `yishu voucher verify --revocations` fail on it; a list
signed by anyone else is refused."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from yishu.access import audit
from yishu.access.integrity import verify as verify_log
from yishu.cli.main import app
from yishu.errors import UserInputError
from yishu.keys import public_key_pem
from yishu.pipeline.voucher import VoucherError, canonical
from yishu.pipeline.withdrawal import revocation_list, revoked_entry, withdraw


def _get(world, path, state="valid"):
    return world.client.get(path, headers={"Authorization": f"Bearer {world.tokens[state]}"})


def test_a_withdrawn_version_is_refused_and_listed_as_withdrawn(world):
    base = "/api/v1/products/insurance_visits/versions/2"
    assert _get(world, f"{base}/download").status_code == 200
    withdraw(world.res, "insurance_visits", 2, "wrong k in the policy", actor="admin")
    for path in (f"{base}/download", f"{base}/voucher"):
        refused = _get(world, path)
        assert refused.status_code == 403 and refused.json()["error"] == "withdrawn_version"
    listed = _get(world, "/api/v1/products/insurance_visits/versions").json()["versions"]
    assert [(v["version"], bool(v["withdrawn"])) for v in listed] == [(1, False), (2, True)]
    assert listed[1]["withdrawn"]["reason"] == "wrong k in the policy"
    products = _get(world, "/api/v1/products").json()["products"]
    assert products[0]["latest_version"] == 1  # the latest deliverable one
    entry = [e for e in audit.entries(world.res.db) if e.action == "version.withdraw"]
    assert [(e.subject, e.actor) for e in entry] == [("insurance/insurance_visits/v2", "admin")]
    assert verify_log(world.res) == []
    with pytest.raises(UserInputError, match="already withdrawn"):
        withdraw(world.res, "insurance_visits", 2, "again")
    with pytest.raises(UserInputError, match="no published version 7"):
        withdraw(world.res, "insurance_visits", 7, "x")


def test_verify_consults_the_signed_revocation_list(world, tmp_path):
    folder = tmp_path / "v2"
    folder.mkdir()
    from yishu.db.queries import published_versions

    version = next(v for v in published_versions(world.res.db)
                   if (v.product, v.version) == ("insurance_visits", 2))
    for name in ("data.parquet", "data.csv", "deid_report.json"):
        (folder / name).write_bytes((__import__("pathlib").Path(version.path) / name)
                                    .read_bytes())
    (folder / "voucher.json").write_text(json.dumps(version.voucher))
    key = tmp_path / "bureau.pub"
    key.write_text(world.res.keys.public_key_pem())
    listing = tmp_path / "revocations.json"

    def verify_cli():
        listing.write_text(world.client.get("/api/v1/revocations").text)
        return CliRunner().invoke(app, ["voucher", "verify", str(folder), "--trusted-key",
                                        str(key), "--revocations", str(listing)],
                                  obj=world.res)

    result = verify_cli()
    assert result.exit_code == 0 and "not in the bureau's revocation list" in result.output
    withdraw(world.res, "insurance_visits", 2, "wrong k in the policy")
    result = verify_cli()
    assert result.exit_code == 1 and "was withdrawn on" in result.output
    # a list that hides the withdrawal must be signed by the bureau: a forged one is refused
    doc = json.loads(listing.read_text())
    doc["body"]["revoked"] = []
    forger = Ed25519PrivateKey.generate()
    import base64
    doc["signature"] = base64.b64encode(forger.sign(canonical(doc["body"]))).decode()
    doc["public_key"] = public_key_pem(forger.public_key())
    listing.write_text(json.dumps(doc))
    result = CliRunner().invoke(app, ["voucher", "verify", str(folder), "--trusted-key",
                                      str(key), "--revocations", str(listing)], obj=world.res)
    assert result.exit_code == 1 and "revocation list: not signed by the bureau" in result.output
    with pytest.raises(VoucherError, match="not a revocation list"):
        revoked_entry({"body": {}}, version.voucher, world.res.keys.public_key_pem())
    result = CliRunner().invoke(app, ["voucher", "verify", str(folder), "--trusted-key",
                                      str(key), "--revocations", str(tmp_path / "nope.json")],
                                obj=world.res)
    assert result.exit_code == 1 and "could not be read" in result.output


def test_revocation_list_is_signed_and_names_only_withdrawn_versions(world):
    assert revocation_list(world.res)["body"]["revoked"] == []
    withdraw(world.res, "ev_charging_stations", 1, "station coordinates wrong")
    listed = revocation_list(world.res)["body"]["revoked"]
    assert [(e["product"], e["version"], e["reason"]) for e in listed] == [
        ("ev_charging_stations", 1, "station coordinates wrong")]


def test_cli_withdraw_needs_a_reason_and_is_audited(world):
    run = CliRunner()
    result = run.invoke(app, ["version", "withdraw", "insurance_visits", "1", "--reason", " "],
                        obj=world.res)
    assert result.exit_code == 1 and "say why" in result.output
    result = run.invoke(app, ["version", "withdraw", "insurance_visits", "1", "--reason",
                              "source redelivered", "--actor", "admin"], obj=world.res)
    assert result.exit_code == 0 and "withdrawn" in result.output
    assert audit.entries(world.res.db)[-1].action == "version.withdraw"
