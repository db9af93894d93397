"""`yishu catalog`: the published product versions."""

from __future__ import annotations

import json

import typer

from yishu.cli.common import console, fail, resources
from yishu.cli.tables import print_catalog
from yishu.errors import UserInputError

catalog_app = typer.Typer(help="The published catalog.", no_args_is_help=True)


@catalog_app.command("ls")
def catalog_ls(ctx: typer.Context,
               as_json: bool = typer.Option(False, "--json", help="machine-readable output")):
    """Published product versions: zone, product, version, rows, security level, grade."""
    from yishu.db.queries import published_versions

    versions = published_versions(resources(ctx).db)
    if as_json:
        print(json.dumps([{"zone": v.zone, "product": v.product, "version": v.version,
                           "rows": v.rows, "security_level": v.security_level,
                           "quality_grade": v.quality_grade, "path": v.path}
                          for v in versions], ensure_ascii=False, indent=1))
        return
    print_catalog(console, versions)


@catalog_app.command("show")
def catalog_show(ctx: typer.Context, product: str = typer.Argument(..., help="product name"),
                 version: int = typer.Option(None, min=1, help="version (default: newest)"),
                 as_json: bool = typer.Option(False, "--json", help="machine-readable output")):
    """Lineage of a published version: the source snapshots, the run and the policy that
    produced it, and its audit entry."""
    from yishu.pipeline.provenance import provenance

    try:
        found = provenance(resources(ctx), product, version)
    except UserInputError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(found, ensure_ascii=False, indent=1))
        return
    console.print(f"[bold]{found['zone']}/{found['product']} v{found['version']}[/]  "
                  f"partition {found['partition']}, {found['rows']} rows, "
                  f"{found['security_level']}, grade {found['quality_grade']}, "
                  f"published {found['published_at'][:16]}", highlight=False)
    console.print(f"  folder:       {found['path']}\n  run:          {found['run_id']}\n"
                  f"  policy:       sha256 {found['deid_policy_sha256']} "
                  f"(k = {found['k_anonymity']})\n  fingerprint:  {found['fingerprint']}",
                  highlight=False, soft_wrap=True)
    for src in found["sources"]:
        console.print(f"  source:       {src['source']} {src['partition']} snapshot "
                      f"{src['snapshot_sha256'][:16]}… ({src['batch_status']}, grade "
                      f"{src['quality_grade']})\n                raw: {src['raw_path']}",
                      highlight=False, soft_wrap=True)
    audit = found["audit"]
    console.print("  audit:        " + (f"entry #{audit['seq']} by {audit['actor']} at "
                                        f"{audit['at'][:19]}" if audit else "[red]no entry[/]"),
                  highlight=False)


version_app = typer.Typer(help="Published product versions.", no_args_is_help=True)


@version_app.command("withdraw")
def version_withdraw(ctx: typer.Context, product: str = typer.Argument(...),
                     version: int = typer.Argument(..., min=1),
                     reason: str = typer.Option(..., help="why (audited, and in the list)"),
                     actor: str = typer.Option(None, help="who acts (default: OS user)")):
    """Withdraw a version: never delivered again, listed as withdrawn by the API and in the
    signed revocation list (GET /api/v1/revocations) that `yishu voucher verify` consults."""
    from yishu.pipeline.withdrawal import withdraw

    try:
        found = withdraw(resources(ctx), product, version, reason, actor)
    except UserInputError as exc:
        fail(str(exc))
    console.print(f"{found.zone}/{product} v{version} withdrawn: {found.withdrawn_reason}",
                  highlight=False)
