"""Commands of administrators: operators, their licences and tokens. Every change is audited;
ids and tokens a script needs come alone on the last line of the output."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.table import Table

from yishu.access.audit import utc
from yishu.cli.common import console, fail, resources
from yishu.errors import UserInputError

operator_app = typer.Typer(help="Licensed operators (授权运营单位).", no_args_is_help=True)
licence_app = typer.Typer(help="Licences: an operator, a scenario, a level, a term.",
                          no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens bound to one licence.", no_args_is_help=True)

ACTOR = typer.Option(None, help="who acts (default: OS user)")
JSON = typer.Option(False, "--json", help="machine-readable output")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date written YYYY-MM-DD") from None


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except UserInputError as exc:
        fail(str(exc))


def _print(rows: list[dict], title: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return
    if not rows:
        console.print(f"{title}: none yet")
        return
    table = Table(title=title)
    for col in rows[0]:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)


@operator_app.command("add")
def operator_add(ctx: typer.Context, name: str = typer.Argument(..., help="registered name"),
                 uscc: str = typer.Option(..., help="unified social credit code (18 chars)"),
                 contact: str = typer.Option(None, help="contact person, phone or email"),
                 actor: str = ACTOR):
    """Register an operator (a legal entity; its USCC is checked)."""
    from yishu.access.licences import add_operator

    operator = _run(add_operator, resources(ctx), name, uscc, contact, actor)
    console.print(f"operator '{operator.name}' registered ({operator.uscc})", highlight=False)


@operator_app.command("ls")
def operator_ls(ctx: typer.Context, as_json: bool = JSON):
    """Registered operators and their status."""
    from yishu.access.licences import list_operators

    _print([{"name": o.name, "uscc": o.uscc, "contact": o.contact, "status": o.status,
             "reason": o.status_reason, "registered": utc(o.created_at).date().isoformat()}
            for o in list_operators(resources(ctx))], "Operators (授权运营单位)", as_json)


@operator_app.command("disable")
def operator_disable(ctx: typer.Context, name: str = typer.Argument(...),
                     reason: str = typer.Option(..., help="why (audited)"), actor: str = ACTOR):
    """Stop all delivery to an operator, at its next request."""
    from yishu.access.licences import disable_operator

    _run(disable_operator, resources(ctx), name, reason, actor)
    console.print(f"operator '{name}' disabled", highlight=False)


@licence_app.command("grant")
def licence_grant(ctx: typer.Context, operator: str = typer.Argument(...),
                  scenario: str = typer.Option(..., help="scenario id (catalog/scenarios.yaml)"),
                  max_level: str = typer.Option(..., help="highest security level, e.g. L3"),
                  until: str = typer.Option(..., help="last day, YYYY-MM-DD"),
                  quota_rows: int = typer.Option(None, help="rows per calendar month"),
                  quota_downloads: int = typer.Option(None, help="downloads per calendar month"),
                  actor: str = ACTOR):
    """Grant a licence for one scenario (the zone is the scenario's); prints its id last."""
    from yishu.access.licences import grant

    licence = _run(grant, resources(ctx), operator, scenario, max_level.upper(), _date(until),
                   quota_rows=quota_rows, quota_downloads=quota_downloads, actor=actor)
    console.print(f"licence granted to '{operator}': scenario {licence.scenario}, zone "
                  f"{licence.zone}, up to {licence.max_level}, until {licence.valid_until}",
                  highlight=False)
    print(licence.id)


@licence_app.command("revoke")
def licence_revoke(ctx: typer.Context, licence_id: int = typer.Argument(...),
                   reason: str = typer.Option(..., help="why (audited)"), actor: str = ACTOR):
    """Revoke a licence: its tokens are refused from the next request on."""
    from yishu.access.licences import revoke

    _run(revoke, resources(ctx), licence_id, reason, actor)
    console.print(f"licence {licence_id} revoked")


@licence_app.command("ls")
def licence_ls(ctx: typer.Context, as_json: bool = JSON):
    """Licences: operator, scenario, zone, level, term, quotas, status."""
    from yishu.access.licences import list_licences

    _print([{"id": lic.id, "operator": op.name, "scenario": lic.scenario, "zone": lic.zone,
             "max_level": lic.max_level, "valid_until": lic.valid_until.isoformat(),
             "quota_rows": lic.quota_rows, "quota_downloads": lic.quota_downloads,
             "status": lic.status, "reason": lic.status_reason}
            for lic, op in list_licences(resources(ctx))], "Licences (授权)", as_json)


@token_app.command("issue")
def token_issue(ctx: typer.Context,
                licence: int = typer.Option(..., help="licence id (yishu licence ls)"),
                days: int = typer.Option(90, help="days until it expires (1–366)"),
                profile: Path = typer.Option(None, help="also write a Delta Sharing profile"),
                endpoint: str = typer.Option("http://localhost:8765/delta-sharing",
                                             help="the Delta Sharing endpoint of `yishu serve`"),
                actor: str = ACTOR):
    """Issue a token (shown once, printed alone on the last line; only its hash is kept)."""
    from yishu.access import tokens

    if profile is not None and (profile.exists() or not profile.parent.is_dir()):
        fail(f"--profile {profile}: the file exists or its folder does not: choose another")
    token, row = _run(tokens.issue, resources(ctx), licence, days, actor=actor)
    console.print(f"token {row.id} for licence {licence}, expires "
                  f"{utc(row.expires_at):%Y-%m-%d %H:%M} UTC; shown once: keep it secret",
                  highlight=False)
    failed = None
    if profile is not None:
        try:
            tokens.write_profile(profile, token, endpoint, row.expires_at)
            console.print(f"Delta Sharing profile written to {profile} (0600)", highlight=False)
        except UserInputError as exc:  # the token exists now: still show it, then fail
            failed = exc
            console.print(f"[red]error:[/] {exc}", highlight=False)
    print(token)
    if failed:
        raise typer.Exit(1)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: str = typer.Argument(..., help="token id"),
                 actor: str = ACTOR):
    """Revoke a token: refused from its next request on."""
    from yishu.access import tokens

    _run(tokens.revoke, resources(ctx), token_id, actor)
    console.print(f"token {token_id} revoked")


@token_app.command("ls")
def token_ls(ctx: typer.Context, licence: int = typer.Option(None, help="only this licence"),
             as_json: bool = JSON):
    """Issued tokens (ids only: the tokens themselves are never stored)."""
    from yishu.access import tokens

    _print([{"id": t.id, "licence": t.licence_id,
             "issued": utc(t.created_at).strftime("%Y-%m-%d %H:%M"),
             "expires": utc(t.expires_at).strftime("%Y-%m-%d %H:%M"),
             "revoked": utc(t.revoked_at).strftime("%Y-%m-%d %H:%M") if t.revoked_at else None}
            for t in tokens.list_tokens(resources(ctx), licence)], "Tokens", as_json)


usage_app = typer.Typer(help="Metering: what operators received.", no_args_is_help=True)


@usage_app.command("report")
def usage_report(ctx: typer.Context, operator: str = typer.Option(None, help="one operator"),
                 month: str = typer.Option(None, help="one calendar month, YYYY-MM (UTC)"),
                 as_json: bool = JSON):
    """Deliveries per operator, licence, scenario and product: downloads, rows, bytes."""
    from yishu.access.metering import report

    if month is not None:
        try:
            dt.datetime.strptime(month, "%Y-%m")
        except ValueError:
            fail(f"--month '{month}' is not a month written YYYY-MM")
    _print(report(resources(ctx), operator=operator, month=month), "Usage (用量)", as_json)
