"""`yishu voucher`: the bureau exports its public key once; operators pin it and verify
product versions offline with it (never with the key a voucher carries)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from yishu.cli.common import console, fail, resources
from yishu.errors import UserInputError

voucher_app = typer.Typer(help="Signed vouchers of product versions.", no_args_is_help=True)

HOW_TO_PIN = ("ask the bureau for its public key (it runs `yishu voucher export-key -o "
              "bureau.pub`), then pass `--trusted-key bureau.pub` or set "
              "YISHU_TRUSTED_KEY=bureau.pub")


@voucher_app.command("export-key")
def voucher_export_key(ctx: typer.Context,
                       out: Path | None = typer.Option(None, "-o", "--out",
                                                       help="write the PEM to this file "
                                                       "(default: print it)")):
    """Bureau: export the Ed25519 public key that operators pin to verify vouchers."""
    pem = resources(ctx).keys.public_key_pem()
    if out is None:
        print(pem, end="")
        return
    if not out.parent.is_dir():
        fail(f"{out.parent}: no such folder: create it or choose another -o path")
    out.write_text(pem, encoding="utf-8")
    console.print(f"[green]✓[/] bureau public key written to {out}: give it to operators, "
                  "who verify with `yishu voucher verify FOLDER --trusted-key "
                  f"{out.name}`", highlight=False, soft_wrap=True)


@voucher_app.command("verify")
def voucher_verify(ctx: typer.Context,
                   folder: Path = typer.Argument(..., help="a product version folder"),
                   trusted_key: Path | None = typer.Option(
                       None, help="the bureau's public key (PEM), e.g. bureau.pub "
                       "(default: YISHU_TRUSTED_KEY, else this installation's own key)")):
    """Verify a version offline with the pinned bureau key: the signature, and that the
    folder holds exactly the files the voucher lists, each with its SHA-256."""
    from yishu.pipeline.voucher import VOUCHER_FILE, load_trusted_key, verify

    path = folder / VOUCHER_FILE
    if not path.is_file():
        fail(f"{path}: no voucher.json in that folder: pass a product version folder")
    pem, pinned_by = _trusted_key(ctx, trusted_key)
    try:
        load_trusted_key(pem, pinned_by)
    except UserInputError as exc:
        fail(str(exc))
    try:
        voucher = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path}: not a voucher (invalid JSON: {exc}): ask the bureau for the version again")
    try:
        problems = verify(voucher, pem, folder)
    except UserInputError as exc:
        fail(f"{path}: {exc}")
    for p in problems:
        console.print(f"[red]✗[/] {p}", highlight=False)
    if problems:
        fail(f"voucher does not verify with {pinned_by}")
    body = voucher["body"]
    console.print(f"[green]✓[/] {body.get('product')} v{body.get('version')} "
                  f"({body.get('zone')}): signature valid with {pinned_by}; the folder holds "
                  f"exactly its {len(body['files'])} file(s), each unchanged", highlight=False)


def _trusted_key(ctx: typer.Context, option: Path | None) -> tuple[str, str]:
    """The pinned key's PEM and where it came from: --trusted-key, YISHU_TRUSTED_KEY, or the
    bureau's own signing key when run inside its installation. Never the voucher's key."""
    res = resources(ctx)
    given = option or res.settings.trusted_key
    if given is not None:
        source = "--trusted-key" if option else "YISHU_TRUSTED_KEY"
        if not given.is_file():
            fail(f"{given} ({source}): no such file: {HOW_TO_PIN}")
        return given.read_text(encoding="utf-8", errors="replace"), str(given)
    try:
        own = res.keys.own_public_key_pem()
    except UserInputError as exc:
        fail(str(exc))
    if own is None:
        fail(f"no trusted bureau key: a voucher is checked only against a key you pinned, "
             f"never the one it carries; {HOW_TO_PIN}")
    return own, f"this installation's signing key ({res.settings.home / 'keys'})"
