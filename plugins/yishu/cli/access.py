"""Commands of administrators and operators: the audit log and the signed vouchers."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from yishu.cli.common import console, fail, resources

audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
voucher_app = typer.Typer(help="Signed vouchers of product versions.", no_args_is_help=True)


@audit_app.command("ls")
def audit_ls(ctx: typer.Context,
             last: int = typer.Option(50, min=1, help="how many of the latest entries")):
    """The latest audit entries."""
    from yishu.access.audit import entries

    table = Table(title="Audit log (审计日志)")
    for col in ("seq", "at", "actor", "action", "subject", "detail"):
        table.add_column(col, overflow="fold")
    for e in entries(resources(ctx).db)[-last:]:
        table.add_row(str(e.seq), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action,
                      e.subject, json.dumps(e.detail, ensure_ascii=False)[:120])
    console.print(table)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context):
    """Check the hash chain: any edited, deleted or reordered entry is reported."""
    from yishu.access.audit import entries, verify

    db = resources(ctx).db
    problems = verify(db)
    for p in problems:
        console.print(f"[red]✗[/] {p}")
    if problems:
        fail("the audit log was tampered with")
    console.print(f"[green]✓[/] audit log intact: {len(entries(db))} entries, hash chain verified")


@voucher_app.command("public-key")
def voucher_public_key(ctx: typer.Context):
    """Print the bureau's Ed25519 public key (PEM) that operators pin to verify vouchers."""
    print(resources(ctx).keys.public_key_pem(), end="")


@voucher_app.command("verify")
def voucher_verify(folder: Path = typer.Argument(..., help="a product version folder"),
                   trusted_key: Path | None = typer.Option(None, help="bureau public key PEM")):
    """Verify a version's voucher offline: signature and the SHA-256 of every file."""
    from yishu.pipeline.voucher import verify

    path = folder / "voucher.json"
    if not path.exists():
        fail(f"{path}: no voucher.json in that folder: pass a product version folder")
    if trusted_key is not None and not trusted_key.is_file():
        fail(f"{trusted_key}: no such file: pass the bureau's public key "
             "(`yishu voucher public-key` prints it)")
    try:
        voucher = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path}: not a voucher (invalid JSON: {exc}): ask the bureau for the version again")
    problems = verify(voucher, folder, trusted_key.read_text() if trusted_key else None)
    for p in problems:
        console.print(f"[red]✗[/] {p}")
    if problems:
        fail("voucher does not verify")
    body = voucher["body"]
    console.print(f"[green]✓[/] {body['product']} v{body['version']} ({body['zone']}): "
                  f"signature valid, {len(body['files'])} file(s) match")
