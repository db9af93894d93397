"""Operators, licences and tokens: each rule refused with a clear message, every change
audited, tokens stored only as hashes, and `authenticate` refusing everything it cannot
confirm (each way of breaking it is tried)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import stat

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from yishu.access import audit, licences, tokens
from yishu.access.integrity import verify
from yishu.access.tokens import AccessDenied
from yishu.cli.main import app
from yishu.errors import UserInputError

TODAY = dt.date(2026, 11, 24)
NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
USCC = "91440300MA5F000007"  # valid check character
OTHER_USCC = "913100007109325157"


@pytest.fixture
def lic(fresh_res):
    licences.add_operator(fresh_res, "平安普惠", USCC, "张三", actor="admin")
    licence = licences.grant(fresh_res, "平安普惠", "insurance_claims", "L3",
                             dt.date(2027, 6, 30), quota_rows=1000, today=TODAY, actor="admin")
    return fresh_res, licence


def test_operator_needs_a_valid_legal_entity_uscc_and_unique_name(fresh_res):
    for uscc, words in (("91440300MA5F000008", "not a valid"), ("abc", "not a valid"),
                        ("92440300MA5F000017", "individual business")):
        with pytest.raises(UserInputError, match=words):
            licences.add_operator(fresh_res, "x", uscc)
    with pytest.raises(UserInputError, match="printable"):
        licences.add_operator(fresh_res, "bad\x00name", USCC)
    licences.add_operator(fresh_res, "平安普惠", USCC)
    with pytest.raises(UserInputError, match="already registered"):
        licences.add_operator(fresh_res, "平安普惠", OTHER_USCC)
    with pytest.raises(UserInputError, match="already registered"):
        licences.add_operator(fresh_res, "another", USCC.lower())
    assert [o.name for o in licences.list_operators(fresh_res)] == ["平安普惠"]


@pytest.mark.parametrize(("change", "words"), [
    (dict(scenario_id="nope"), "unknown scenario 'nope'"),
    (dict(max_level="L4"), "above what zone 'insurance' publishes"),
    (dict(max_level="L9"), "use one of"),
    (dict(until=dt.date(2026, 11, 23)), "in the past"),
    (dict(until=dt.date(2031, 1, 1)), "cannot outlive its scenario"),
    (dict(operator_name="nobody"), "unknown operator"),
    (dict(quota_rows=0), "--quota-rows 0"),
    (dict(quota_downloads=-1), "--quota-downloads -1"),
])
def test_grant_refuses_what_the_scenario_and_zone_do_not_allow(fresh_res, change, words):
    licences.add_operator(fresh_res, "平安普惠", USCC)
    args = dict(operator_name="平安普惠", scenario_id="insurance_claims", max_level="L3",
                until=dt.date(2027, 6, 30), quota_rows=None, quota_downloads=None) | change
    with pytest.raises(UserInputError, match=words):
        licences.grant(fresh_res, args.pop("operator_name"), args.pop("scenario_id"),
                       args.pop("max_level"), args.pop("until"), today=TODAY, **args)
    assert licences.list_licences(fresh_res) == []


def test_grant_refuses_an_expired_scenario_and_a_disabled_operator(fresh_res):
    cat = fresh_res.catalog
    expired = dataclasses.replace(cat.scenarios["insurance_claims"],
                                  valid_until=dt.date(2026, 11, 1))
    res = fresh_res.with_catalog(dataclasses.replace(
        cat, scenarios={**cat.scenarios, "insurance_claims": expired}))
    licences.add_operator(res, "平安普惠", USCC)
    with pytest.raises(UserInputError, match="expired on 2026-11-01"):
        licences.grant(res, "平安普惠", "insurance_claims", "L3", dt.date(2026, 11, 30),
                       today=TODAY)
    licences.disable_operator(fresh_res, "平安普惠", "contract ended")
    with pytest.raises(UserInputError, match="is disabled"):
        licences.grant(fresh_res, "平安普惠", "insurance_claims", "L3", dt.date(2027, 1, 1),
                       today=TODAY)


def test_the_zone_comes_from_the_scenario_and_every_change_is_audited(lic):
    res, licence = lic
    assert (licence.zone, licence.scenario, licence.max_level) == ("insurance",
                                                                  "insurance_claims", "L3")
    token, row = tokens.issue(res, licence.id, 30, actor="admin", now=NOW)
    tokens.revoke(res, row.id, actor="admin")
    licences.revoke(res, licence.id, "breach of terms", actor="admin")
    licences.disable_operator(res, "平安普惠", "contract ended", actor="admin")
    log = audit.entries(res.db)
    assert [(e.action, e.actor) for e in log] == [
        ("operator.add", "admin"), ("licence.grant", "admin"), ("token.issue", "admin"),
        ("token.revoke", "admin"), ("licence.revoke", "admin"), ("operator.disable", "admin")]
    assert log[4].detail == {"reason": "breach of terms"}
    assert token not in str([e.detail for e in log])  # the token itself is never recorded
    assert verify(res) == []
    with pytest.raises(UserInputError, match="already revoked"):
        licences.revoke(res, licence.id, "again")
    with pytest.raises(UserInputError, match="say why"):
        licences.disable_operator(res, "平安普惠", "  ")


def test_a_token_is_stored_only_as_its_hash_and_authenticates(lic):
    res, licence = lic
    token, row = tokens.issue(res, licence.id, 30, now=NOW)
    assert token.startswith(f"yst_{row.id}_") and len(token) == 4 + 16 + 1 + 43
    with res.db.session() as s:  # no column of any table holds the token
        for table in ("tokens", "audit_log", "licences", "operators"):
            assert token not in str(s.execute(text(f"SELECT * FROM {table}")).all())
    grant = tokens.authenticate(res, token, now=NOW)
    assert (grant.operator, grant.licence_id, grant.scenario, grant.zone, grant.max_level,
            grant.quota_rows) == ("平安普惠", licence.id, "insurance_claims", "insurance",
                                  "L3", 1000)
    assert row.expires_at == NOW + dt.timedelta(days=30)


def _denied(res, token, now=NOW) -> tuple[int, str]:
    with pytest.raises(AccessDenied) as exc:
        tokens.authenticate(res, token, now=now)
    assert exc.value.body()["what_to_do"]
    return exc.value.status, exc.value.error


def test_forged_malformed_and_unknown_tokens_are_refused(lic):
    res, licence = lic
    token, row = tokens.issue(res, licence.id, 30, now=NOW)
    last = "A" if token[-1] != "A" else "B"
    assert _denied(res, token[:-1] + last) == (401, "unknown_token")  # wrong secret
    assert _denied(res, f"yst_{'0' * 16}_{token.split('_', 2)[2]}") == (401, "unknown_token")
    for bad in (None, "", "Bearer " + token, token + "x", token.upper(), "yst_x_y"):
        assert _denied(res, bad) == (401, "unknown_token")


def test_revocation_and_expiry_take_effect_on_the_next_request(lic):
    res, licence = lic
    token, row = tokens.issue(res, licence.id, 30, now=NOW)
    later = NOW + dt.timedelta(days=30)
    assert _denied(res, token, now=later) == (401, "expired_token")
    tokens.authenticate(res, token, now=later - dt.timedelta(seconds=1))
    second, _ = tokens.issue(res, licence.id, 30, now=NOW)
    tokens.revoke(res, row.id)
    assert _denied(res, token) == (401, "revoked_token")
    tokens.authenticate(res, second, now=NOW)  # revoking one token leaves the others


def test_licence_operator_and_scenario_state_is_read_on_every_request(lic):
    res, licence = lic
    token, _ = tokens.issue(res, licence.id, 366, now=NOW)
    end = dt.datetime(2027, 6, 30, 23, 59, tzinfo=dt.UTC)
    tokens.authenticate(res, token, now=end)
    # the token expires with its licence, whatever --days said
    assert _denied(res, token, now=dt.datetime(2027, 7, 1, 0, 0, 1, tzinfo=dt.UTC))[0] == 401
    cat = res.catalog
    expired = dataclasses.replace(cat.scenarios["insurance_claims"],
                                  valid_until=dt.date(2026, 11, 23))
    stale = res.with_catalog(dataclasses.replace(cat, scenarios={**cat.scenarios,
                                                                 "insurance_claims": expired}))
    assert _denied(stale, token) == (403, "scenario_not_approved")
    gone = res.with_catalog(dataclasses.replace(cat, scenarios={}))
    assert _denied(gone, token) == (403, "scenario_not_approved")
    licences.revoke(res, licence.id, "breach")
    assert _denied(res, token) == (403, "licence_revoked")
    licences.disable_operator(res, "平安普惠", "contract ended")
    assert _denied(res, token) == (403, "operator_disabled")


def test_licence_expiry_is_refused_even_if_the_token_row_says_otherwise(lic):
    res, licence = lic
    token, row = tokens.issue(res, licence.id, 30, now=NOW)
    with res.db.session() as s:  # a token row edited to outlive its licence
        s.execute(text("UPDATE tokens SET expires_at = '2099-01-01 00:00:00'"))
        s.commit()
    assert _denied(res, token, now=dt.datetime(2027, 7, 2, tzinfo=dt.UTC)) == (
        403, "licence_expired")


def test_no_token_for_a_revoked_licence_or_bad_days(lic):
    res, licence = lic
    for days in (0, 367):
        with pytest.raises(UserInputError, match="--days"):
            tokens.issue(res, licence.id, days)
    with pytest.raises(UserInputError, match="unknown licence 99"):
        tokens.issue(res, 99)
    licences.revoke(res, licence.id, "breach")
    with pytest.raises(UserInputError, match="no token can be issued"):
        tokens.issue(res, licence.id)
    assert tokens.list_tokens(res) == []


def test_cli_prints_ids_and_tokens_alone_on_the_last_line(fresh_res, tmp_path):
    run = CliRunner()

    def yishu(*args):
        result = run.invoke(app, list(args), obj=fresh_res)
        return result.exit_code, result.output.strip().splitlines()

    assert yishu("operator", "add", "平安普惠", "--uscc", USCC)[0] == 0
    code, out = yishu("licence", "grant", "平安普惠", "--scenario", "insurance_claims",
                      "--max-level", "l3", "--until", "2030-06-30")
    assert code == 0 and out[-1].isdigit()
    profile = tmp_path / "yishu.share"
    code, out = yishu("token", "issue", "--licence", out[-1], "--days", "7",
                      "--profile", str(profile))
    assert code == 0 and tokens.authenticate(fresh_res, out[-1]).scenario == "insurance_claims"
    assert stat.S_IMODE(os.stat(profile).st_mode) == 0o600
    import json
    shared = json.loads(profile.read_text())
    assert shared["bearerToken"] == out[-1] and shared["shareCredentialsVersion"] == 1
    assert set(shared) == {"shareCredentialsVersion", "endpoint", "bearerToken",
                           "expirationTime"}
    # an existing profile is refused before any token is issued
    code, out = yishu("token", "issue", "--licence", "1", "--profile", str(profile))
    assert code == 1 and "exists" in out[-1] and len(tokens.list_tokens(fresh_res)) == 1
    code, out = yishu("licence", "grant", "平安普惠", "--scenario", "insurance_claims",
                      "--max-level", "L3", "--until", "30/06/2030")
    assert code != 0 and "YYYY-MM-DD" in " ".join(out)
    code, out = yishu("licence", "ls", "--json")
    assert code == 0 and json.loads("\n".join(out))[0]["operator"] == "平安普惠"
