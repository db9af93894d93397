"""Commands of administrators: the audit log."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from yishu.cli.common import console, fail, resources

audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


@audit_app.command("ls")
def audit_ls(ctx: typer.Context,
             last: int = typer.Option(50, min=1, help="how many of the latest entries")):
    """The latest audit entries (times in UTC)."""
    from yishu.access.audit import entries, utc

    table = Table(title="Audit log (审计日志)")
    for col in ("seq", "at (UTC)", "actor", "action", "subject", "detail"):
        table.add_column(col, overflow="fold")
    for e in entries(resources(ctx).db)[-last:]:
        table.add_row(str(e.seq), utc(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action,
                      e.subject, json.dumps(e.detail, ensure_ascii=False)[:120])
    console.print(table)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context):
    """Check the hash chain, the signed head kept outside the database and the catalog facts
    each entry vouches for: names the first bad entry and the kind of damage."""
    from yishu.access.audit import entries
    from yishu.access.integrity import signed_head, verify

    res = resources(ctx)
    damage = verify(res)
    for d in damage:
        console.print(f"[red]✗[/] [bold]{d.kind}[/]: {d.message}", soft_wrap=True,
                      highlight=False)
    tampering = [d for d in damage if d.kind not in ("interrupted", "checkpoint missing")]
    if tampering:
        first = min(tampering, key=lambda d: (d.seq is None, d.seq or 0))
        where = f", first bad entry {first.seq}" if first.seq is not None else ""
        fail(f"the audit log was tampered with ({first.kind}{where})")
    if any(d.kind == "checkpoint missing" for d in damage):
        fail("the audit log's head is not signed: review the log, then sign it with "
             "`yishu audit repair --reason TEXT`")
    if damage:
        fail(f"{len(damage)} act(s) were interrupted before their audit entry was written (not "
             "tampering): review them, then record them with `yishu audit repair --reason TEXT`")
    log, head = entries(res.db), signed_head(res)
    console.print(f"[green]✓[/] audit log intact: {len(log)} entries, hash chain and signed head "
                  "verified")
    if log and head and head.seq < log[-1].seq:  # honest after a crash; say it all the same
        console.print(f"[yellow]![/] entries after {head.seq} were written after the last "
                      "signature (a writer stopped before signing): the next entry signs them",
                      highlight=False)


@audit_app.command("repair")
def audit_repair(ctx: typer.Context,
                 reason: str = typer.Option(..., "--reason", help="why, recorded in the log"),
                 actor: str | None = typer.Option(None, help="who repairs (default: OS user)")):
    """Record the missing entries of interrupted acts (and sign the head of a log written
    before checkpoints existed), with the reason; itself audited. Refused on tampering."""
    from yishu.access.audit import AuditRefused
    from yishu.access.integrity import repair

    try:
        settled = repair(resources(ctx), reason, actor)
    except (AuditRefused, ValueError) as exc:
        fail(str(exc))
    if not settled:
        console.print("[green]✓[/] nothing to repair: the audit log is intact")
        return
    for d in settled:
        done = f"recorded {d.fact[0]} {d.fact[1]}" if d.fact else "signed the log's head"
        console.print(f"[green]✓[/] {done}", highlight=False)
    console.print(f"[green]✓[/] {len(settled)} repair(s) recorded with the reason, in an "
                  "`audit.repair` entry")
