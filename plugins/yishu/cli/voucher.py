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
                       "(default: YISHU_TRUSTED_KEY, else this installation's own key)"),
                   revocations: str | None = typer.Option(
                       None, help="the bureau's signed revocation list: a file, or the URL "
                       "of GET /api/v1/revocations (checked with the same pinned key)")):
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
    if revocations is not None:
        _check_not_withdrawn(voucher, pem, revocations)
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


def _check_not_withdrawn(voucher: dict, pem: str, source: str) -> None:
    """Fail if the bureau's signed revocation list names this voucher."""
    import urllib.error
    import urllib.request

    from yishu.pipeline.withdrawal import revoked_entry

    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310
                text = response.read().decode("utf-8")
        else:
            text = Path(source).read_text(encoding="utf-8")
        entry = revoked_entry(json.loads(text), voucher, pem)
    except (OSError, urllib.error.URLError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"--revocations {source}: could not be read ({exc}): without the list, a "
             "withdrawal cannot be ruled out; retry, or verify offline without --revocations")
    except UserInputError as exc:
        fail(f"--revocations {source}: {exc}")
    if entry is not None:
        fail(f"{voucher['body'].get('product')} v{voucher['body'].get('version')} was "
             f"withdrawn on {entry.get('withdrawn_at', '?')[:10]}: {entry.get('reason')}; do "
             "not use it")
    console.print("[green]✓[/] not in the bureau's revocation list", highlight=False)
