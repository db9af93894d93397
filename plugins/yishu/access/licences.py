"""Operators and their licences (授权): who may receive what, for which scenario, until when.

Administrators register operators (a legal entity, its USCC checked) and grant each a licence
for one approved scenario: the products of that scenario, up to a security level, until a date
no later than the scenario's, within monthly quotas. Every change is an audit entry written in
the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from yishu.access import audit
from yishu.db.models import Licence, Operator
from yishu.definitions import LEVELS
from yishu.errors import UserInputError
from yishu.resources import Resources
from yishu.standard.identifiers import is_uscc


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100 or any(unicodedata.category(c).startswith("C") for c in name):
        raise UserInputError(f"operator name {name!r}: give 1–100 printable characters, e.g. "
                             "the registered name of the entity")
    return name


def _operator(session: Session, name: str) -> Operator:
    found = session.scalars(select(Operator).where(Operator.name == name)).first()
    if found is None:
        raise UserInputError(f"unknown operator '{name}': see `yishu operator ls`")
    return found


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise UserInputError("--reason: say why (it goes into the audit log)")
    return reason.strip()


def add_operator(res: Resources, name: str, uscc: str, contact: str | None = None,
                 actor: str | None = None) -> Operator:
    name, uscc = _clean_name(name), (uscc or "").strip().upper()
    if not is_uscc(uscc):
        raise UserInputError(f"--uscc '{uscc}' is not a valid unified social credit code "
                             "(18 characters, GB 32100 check character): copy it from the "
                             "business licence")
    if uscc.startswith("92"):
        raise UserInputError(f"--uscc '{uscc}' is an individual business (个体工商户): an "
                             "operator must be a legal entity")
    with res.db.session() as s:
        for clash in s.scalars(select(Operator).where(
                (Operator.name == name) | (Operator.uscc == uscc))):
            raise UserInputError(f"operator '{clash.name}' ({clash.uscc}) is already "
                                 "registered: names and USCCs are unique")
        operator = Operator(name=name, uscc=uscc, contact=contact, status="active")
        s.add(operator)
        s.flush()
        audit.append(res, s, "operator.add", name, {"uscc": uscc, "contact": contact}, actor)
        s.commit()
        return operator


def disable_operator(res: Resources, name: str, reason: str,
                     actor: str | None = None) -> Operator:
    reason = _reason(reason)
    with res.db.session() as s:
        operator = _operator(s, name)
        if operator.status == "disabled":
            raise UserInputError(f"operator '{name}' is already disabled")
        operator.status, operator.status_reason = "disabled", reason
        audit.append(res, s, "operator.disable", name, {"reason": reason}, actor)
        s.commit()
        return operator


def list_operators(res: Resources) -> list[Operator]:
    with res.db.session() as s:
        return list(s.scalars(select(Operator).order_by(Operator.name)))


def grant(res: Resources, operator_name: str, scenario_id: str, max_level: str,
          until: dt.date, *, quota_rows: int | None = None, quota_downloads: int | None = None,
          today: dt.date | None = None, actor: str | None = None) -> Licence:
    """A licence for one scenario; the zone is the scenario's."""
    today = today or dt.date.today()
    scenario = res.catalog.scenarios.get(scenario_id)
    if scenario is None:
        raise UserInputError(f"--scenario: unknown scenario '{scenario_id}': use one of "
                             f"{sorted(res.catalog.scenarios)} (catalog/scenarios.yaml)")
    if scenario.expired(today):
        raise UserInputError(f"--scenario: '{scenario_id}' expired on {scenario.valid_until}: "
                             "renew its approval in catalog/scenarios.yaml first")
    zone = res.catalog.zones[scenario.zone]
    if max_level not in LEVELS:
        raise UserInputError(f"--max-level '{max_level}': use one of {list(LEVELS)}")
    if LEVELS.index(max_level) > LEVELS.index(zone.max_level):
        raise UserInputError(f"--max-level {max_level} is above what zone '{zone.name}' "
                             f"publishes ({zone.max_level}): use {zone.max_level} or lower")
    if until < today:
        raise UserInputError(f"--until {until} is in the past")
    if until > scenario.valid_until:
        raise UserInputError(f"--until {until} is after the scenario's approval ends "
                             f"({scenario.valid_until}): a licence cannot outlive its scenario")
    for flag, quota in (("--quota-rows", quota_rows), ("--quota-downloads", quota_downloads)):
        if quota is not None and quota < 1:
            raise UserInputError(f"{flag} {quota}: a quota is a whole number ≥ 1 (or leave it "
                                 "out for none)")
    with res.db.session() as s:
        operator = _operator(s, operator_name)
        if operator.status != "active":
            raise UserInputError(f"operator '{operator.name}' is disabled "
                                 f"({operator.status_reason}): nothing can be granted to it")
        licence = Licence(operator_id=operator.id, scenario=scenario.name, zone=zone.name,
                          max_level=max_level, valid_until=until, quota_rows=quota_rows,
                          quota_downloads=quota_downloads, status="active")
        s.add(licence)
        s.flush()
        audit.append(res, s, "licence.grant", f"licence/{licence.id}", {
            "operator": operator.name, "scenario": scenario.name, "zone": zone.name,
            "max_level": max_level, "valid_until": until.isoformat(),
            "quota_rows": quota_rows, "quota_downloads": quota_downloads}, actor)
        s.commit()
        return licence


def revoke(res: Resources, licence_id: int, reason: str, actor: str | None = None) -> Licence:
    reason = _reason(reason)
    with res.db.session() as s:
        licence = s.get(Licence, licence_id)
        if licence is None:
            raise UserInputError(f"unknown licence {licence_id}: see `yishu licence ls`")
        if licence.status == "revoked":
            raise UserInputError(f"licence {licence_id} is already revoked")
        licence.status, licence.status_reason = "revoked", reason
        audit.append(res, s, "licence.revoke", f"licence/{licence.id}", {"reason": reason},
                     actor)
        s.commit()
        return licence


def list_licences(res: Resources) -> list[tuple[Licence, Operator]]:
    with res.db.session() as s:
        return list(s.execute(select(Licence, Operator).join(
            Operator, Licence.operator_id == Operator.id).order_by(Licence.id)).tuples())
