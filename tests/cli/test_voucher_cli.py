"""`yishu voucher export-key / verify`: the bureau exports its key once, an operator pins it;
nothing verifies without a pinned key, and every failure is one clear line."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from yishu.cli import app
from yishu.keys import public_key_pem
from yishu.pipeline.voucher import canonical, file_sha256, sign
from yishu.resources import Resources
from yishu.settings import Settings

runner = CliRunner()


def _yishu(res, *args):
    result = runner.invoke(app, [str(a) for a in args], obj=res)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture
def bureau(fresh_res, tmp_path):
    """The bureau's installation, one version folder it signed, and its exported key."""
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n1,2\n")
    body = {"product": "p", "version": 1, "zone": "open",
            "files": {"data.csv": file_sha256(folder / "data.csv")}}
    (folder / "voucher.json").write_text(json.dumps(sign(body, fresh_res.keys)))
    exported = _yishu(fresh_res, "voucher", "export-key", "-o", tmp_path / "bureau.pub")
    assert exported.exit_code == 0 and "bureau.pub" in exported.output
    return fresh_res, folder, tmp_path / "bureau.pub"


@pytest.fixture
def operator(tmp_path):
    """An operator's installation: no keys of its own."""
    return Resources.from_settings(Settings.for_home(tmp_path / "operator"))


def test_export_key_writes_the_bureau_public_key(bureau):
    res, _, pub = bureau
    assert pub.read_text() == res.keys.public_key_pem()
    printed = _yishu(res, "voucher", "export-key")
    assert printed.exit_code == 0 and printed.output == res.keys.public_key_pem()
    nowhere = _yishu(res, "voucher", "export-key", "-o", pub.parent / "no" / "bureau.pub")
    assert nowhere.exit_code == 1 and "no such folder" in nowhere.output


def test_without_a_pinned_key_verification_is_refused(bureau, operator):
    _, folder, _ = bureau
    result = _yishu(operator, "voucher", "verify", folder)
    assert result.exit_code == 1
    assert "no trusted bureau key" in result.output
    assert "yishu voucher export-key -o bureau.pub" in result.output
    assert "--trusted-key bureau.pub" in result.output and "YISHU_TRUSTED_KEY" in result.output
    assert not (operator.settings.home / "keys" / "bureau_signing.pem").exists()


def test_the_pinned_key_verifies_by_option_or_setting(bureau, operator, tmp_path):
    _, folder, pub = bureau
    by_option = _yishu(operator, "voucher", "verify", folder, "--trusted-key", pub)
    assert by_option.exit_code == 0, by_option.output
    assert "exactly its 1 file(s), each unchanged" in by_option.output
    pinned = Resources.from_settings(Settings.for_home(tmp_path / "op2", trusted_key=pub))
    by_setting = _yishu(pinned, "voucher", "verify", folder)
    assert by_setting.exit_code == 0 and str(pub) in by_setting.output


def test_the_bureau_verifies_with_its_own_key(bureau):
    res, folder, _ = bureau
    result = _yishu(res, "voucher", "verify", folder)
    assert result.exit_code == 0 and "this installation's signing key" in result.output


def test_a_version_resigned_with_another_key_fails(bureau, operator):
    _, folder, pub = bureau
    (folder / "data.csv").write_text("a,b\n1,999\n")
    voucher = json.loads((folder / "voucher.json").read_text())
    voucher["body"]["files"]["data.csv"] = file_sha256(folder / "data.csv")
    other = Ed25519PrivateKey.generate()
    voucher.update(public_key=public_key_pem(other.public_key()),
                   signature=base64.b64encode(other.sign(canonical(voucher["body"]))).decode())
    (folder / "voucher.json").write_text(json.dumps(voucher))
    result = _yishu(operator, "voucher", "verify", folder, "--trusted-key", pub)
    assert result.exit_code == 1
    assert "not signed by the bureau's trusted key" in result.output
    assert "voucher does not verify" in result.output


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "extra.csv").write_text("x"), "extra.csv: file not listed in the voucher"),
    (lambda f: (f / "data.csv").unlink(), "data.csv: file missing"),
    (lambda f: (f / "data.csv").write_text("a,b\n1,3\n"), "data.csv: SHA-256 differs"),
])
def test_extra_missing_or_changed_files_fail(bureau, operator, damage, message):
    _, folder, pub = bureau
    damage(folder)
    result = _yishu(operator, "voucher", "verify", folder, "--trusted-key", pub)
    assert result.exit_code == 1 and message in result.output


def test_a_non_ed25519_or_missing_key_file_is_one_clear_line(bureau, operator, tmp_path):
    _, folder, _ = bureau
    rsa_pub = tmp_path / "rsa.pub"
    rsa_pub.write_bytes(rsa.generate_private_key(65537, 2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    result = _yishu(operator, "voucher", "verify", folder, "--trusted-key", rsa_pub)
    assert result.exit_code == 1 and "rsa.pub: not an Ed25519 key" in result.output
    garbage = tmp_path / "garbage.pub"
    garbage.write_bytes(b"\xff\xfe not a key")
    result = _yishu(operator, "voucher", "verify", folder, "--trusted-key", garbage)
    assert result.exit_code == 1 and "garbage.pub: not a PEM public key" in result.output
    result = _yishu(operator, "voucher", "verify", folder, "--trusted-key", tmp_path / "no.pem")
    assert result.exit_code == 1 and "no.pem (--trusted-key): no such file" in result.output


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a voucher (invalid JSON"),
    ('{"body": {"files": {}}, "algorithm": "Ed25519"}', "field 'signature' is missing"),
    ('{"body": {}, "algorithm": "Ed25519", "signature": "x"}', "field 'body.files'"),
    ("[1, 2]", "not a voucher: a JSON object"),
])
def test_a_malformed_voucher_is_one_clear_line(bureau, operator, content, message):
    _, folder, pub = bureau
    (folder / "voucher.json").write_text(content)
    result = _yishu(operator, "voucher", "verify", folder, "--trusted-key", pub)
    assert result.exit_code == 1 and message in result.output
    assert "voucher.json" in result.output
