"""`yishu user`: console accounts of the bureau's staff (stewards, administrators)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from yishu.access.audit import utc
from yishu.cli.common import console, fail, resources
from yishu.errors import UserInputError

user_app = typer.Typer(help="Console accounts of the bureau's staff.", no_args_is_help=True)


@user_app.command("add")
def user_add(ctx: typer.Context, name: str = typer.Argument(..., help="sign-in name"),
             role: str = typer.Option(..., help="steward or admin"),
             actor: str = typer.Option(None, help="who acts (default: OS user)")):
    """Create a console account; the password is read from standard input (first line),
    never from the command line, and stored as a scrypt hash."""
    from yishu.access.users import add_user

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"password for {name}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = add_user(resources(ctx), name, role, password, actor)
    except UserInputError as exc:
        fail(str(exc))
    console.print(f"user '{user.name}' ({user.role}) created: sign in at /console/",
                  highlight=False)


@user_app.command("ls")
def user_ls(ctx: typer.Context):
    """Console accounts, their role and status."""
    from yishu.access.users import list_users

    table = Table(title="Console users (控制台用户)")
    for col in ("name", "role", "status", "created"):
        table.add_column(col)
    for u in list_users(resources(ctx)):
        table.add_row(u.name, u.role, u.status, utc(u.created_at).date().isoformat())
    console.print(table)


@user_app.command("disable")
def user_disable(ctx: typer.Context, name: str = typer.Argument(...),
                 reason: str = typer.Option(..., help="why (audited)"),
                 actor: str = typer.Option(None, help="who acts (default: OS user)")):
    """Disable a console account: its open sessions are refused at their next request."""
    from yishu.access.users import disable_user

    try:
        disable_user(resources(ctx), name, reason, actor)
    except UserInputError as exc:
        fail(str(exc))
    console.print(f"user '{name}' disabled", highlight=False)
