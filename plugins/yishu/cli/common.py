"""What every command shares: the console, one way to fail, the run's resources."""

from __future__ import annotations

import typer
from rich.console import Console

from yishu import settings
from yishu.definitions import Catalog, CatalogError
from yishu.errors import UserInputError
from yishu.resources import Resources
from yishu.storage import check_partition

console = Console(width=max(Console().width, 120))
DEMO_PARTITION = "2026-11-01"


def fail(message: str, code: int = 1):
    console.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def partition_option(value: str) -> str:
    """Typer callback: a partition is a date written YYYY-MM-DD."""
    try:
        return check_partition(value)
    except UserInputError as exc:
        raise typer.BadParameter(str(exc)) from None


def resources(ctx: typer.Context) -> Resources:
    """The resources of this invocation: given by the caller (`obj=`), else built once from
    the environment's settings."""
    root = ctx.find_root()
    if not isinstance(root.obj, Resources):
        root.obj = Resources.from_settings(settings.load())
    return root.obj


def catalog(ctx: typer.Context) -> Catalog:
    """The catalog as code; a broken one ends the command with every problem listed."""
    try:
        return resources(ctx).catalog
    except CatalogError as exc:
        for problem in exc.problems:
            console.print(f"[red]✗[/] {problem}", soft_wrap=True, highlight=False)
        fail(f"{len(exc.problems)} problem(s) in the catalog: fix them and run `yishu check`")
