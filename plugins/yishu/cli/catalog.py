"""`yishu catalog`: the published product versions."""

from __future__ import annotations

import json

import typer

from yishu.cli.common import console, resources
from yishu.cli.tables import print_catalog

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
