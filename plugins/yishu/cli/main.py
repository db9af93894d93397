"""`yishu`: the command line of bureau engineers, stewards and administrators.

Commands live in one module per group; this module only assembles them. Each invocation
builds its resources once (cli/common.py); a caller may pass its own with `obj=`.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from yishu.cli import access, deid, licensing, pipeline, server, steward
from yishu.cli.catalog import catalog_app, version_app
from yishu.cli.common import fail
from yishu.cli.users import user_app
from yishu.cli.voucher import voucher_app
from yishu.errors import UserInputError


class _OneLineErrors(TyperGroup):
    """Any `UserInputError` a command lets through (a short key in the environment, a bad
    name) ends it with its one-line message, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UserInputError as exc:
            fail(str(exc))


app = typer.Typer(help="Yishu (一数): public-data authorized operation pipelines.",
                  no_args_is_help=True, add_completion=False, cls=_OneLineErrors)

app.command()(pipeline.check)
app.add_typer(catalog_app, name="catalog")
app.add_typer(version_app, name="version")
app.add_typer(steward.quarantine_app, name="quarantine")
app.add_typer(pipeline.expectations_app, name="expectations")
app.add_typer(voucher_app, name="voucher")
app.command()(pipeline.sample)
app.command()(pipeline.run)
app.command()(steward.report)
app.command()(deid.scan)
app.command()(deid.deidentify)
app.command()(deid.reidentify)
app.add_typer(access.audit_app, name="audit")
app.add_typer(licensing.operator_app, name="operator")
app.add_typer(licensing.licence_app, name="licence")
app.add_typer(licensing.token_app, name="token")
app.add_typer(licensing.usage_app, name="usage")
app.add_typer(user_app, name="user")
app.command()(pipeline.demo)
app.command()(server.airflow)
app.command()(server.serve)

if __name__ == "__main__":
    app()
