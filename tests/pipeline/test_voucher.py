"""Voucher verification trusts only the pinned bureau key, and the version folder must hold
exactly the files the voucher lists, each unchanged."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yishu.keys import public_key_pem
from yishu.pipeline.voucher import VoucherError, canonical, file_sha256, sign, verify


@pytest.fixture
def version(tmp_path, fresh_res):
    """A version folder with two files and the voucher signed by the bureau's key."""
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n1,2\n")
    (folder / "deid_report.json").write_text("{}")
    body = {"product": "p", "version": 1,
            "files": {n: file_sha256(folder / n) for n in ("data.csv", "deid_report.json")}}
    voucher = sign(body, fresh_res.keys)
    (folder / "voucher.json").write_text(json.dumps(voucher))
    return folder, voucher, fresh_res.keys.public_key_pem()


def _resign_with(voucher: dict, key: Ed25519PrivateKey) -> dict:
    return {**voucher, "public_key": public_key_pem(key.public_key()),
            "signature": base64.b64encode(key.sign(canonical(voucher["body"]))).decode()}


def test_a_genuine_version_verifies(version):
    folder, voucher, bureau = version
    assert verify(voucher, bureau, folder) == []


def test_a_version_resigned_with_another_key_fails(version):
    # the attack: edit the data, recompute its hash, sign with a fresh key put in the voucher
    folder, voucher, bureau = version
    (folder / "data.csv").write_text("a,b\n1,999\n")
    forged = json.loads(json.dumps(voucher))
    forged["body"]["files"]["data.csv"] = file_sha256(folder / "data.csv")
    forged = _resign_with(forged, Ed25519PrivateKey.generate())
    assert verify(forged, forged["public_key"], folder) == []  # valid for its own key only
    problems = verify(forged, bureau, folder)
    assert problems == ["not signed by the bureau's trusted key: the voucher was re-signed "
                        "with another key (forged), or the trusted key is not the bureau's"]


def test_an_edited_body_fails_with_the_bureau_key(version):
    folder, voucher, bureau = version
    voucher["body"]["version"] = 2
    assert verify(voucher, bureau, folder) == [
        "signature does not match the voucher body: it was altered or forged"]


def test_a_changed_file_fails(version):
    folder, voucher, bureau = version
    (folder / "data.csv").write_text("a,b\n1,3\n")
    assert verify(voucher, bureau, folder) == [
        "data.csv: SHA-256 differs from the voucher: file was altered"]


def test_a_deleted_file_fails(version):
    folder, voucher, bureau = version
    (folder / "deid_report.json").unlink()
    assert verify(voucher, bureau, folder) == ["deid_report.json: file missing"]


@pytest.mark.parametrize("extra", ["notes.txt", "sub/data.csv", ".hidden"])
def test_a_file_added_to_the_folder_fails(version, extra):
    folder, voucher, bureau = version
    (folder / extra).parent.mkdir(exist_ok=True)
    (folder / extra).write_text("x")
    assert verify(voucher, bureau, folder) == [
        f"{extra}: file not listed in the voucher: it was added to the version"]


def test_a_listed_path_outside_the_folder_fails(version, fresh_res):
    folder, voucher, bureau = version
    body = {**voucher["body"], "files": {**voucher["body"]["files"],
                                         "../outside": file_sha256(folder / "data.csv")}}
    assert "../outside: not a file name inside the version folder" in verify(
        sign(body, fresh_res.keys), bureau, folder)


def test_a_non_ed25519_trusted_key_is_a_clear_error(version):
    folder, voucher, _ = version
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(VoucherError, match="not an Ed25519 key"):
        verify(voucher, p256, folder)
    with pytest.raises(VoucherError, match="not a PEM public key"):
        verify(voucher, "-----BEGIN PUBLIC KEY-----\nnonsense\n", folder)
    private = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with pytest.raises(VoucherError, match="not a PEM public key"):
        verify(voucher, private, folder)  # a private key where the public one belongs


@pytest.mark.parametrize("edit, field", [
    (lambda v: v.pop("signature"), "'signature'"),
    (lambda v: v.update(body=[1]), "'body'"),
    (lambda v: v["body"].pop("files"), "'body.files'"),
    (lambda v: v["body"].update(files={"data.csv": 1}), "'body.files'"),
    (lambda v: v.update(algorithm=None), "'algorithm'"),
])
def test_a_malformed_voucher_is_a_clear_error(version, edit, field):
    folder, voucher, bureau = version
    edit(voucher)
    with pytest.raises(VoucherError, match=field):
        verify(voucher, bureau, folder)
    with pytest.raises(VoucherError, match="JSON object"):
        verify([voucher], bureau, folder)


def test_a_garbled_signature_or_other_algorithm_is_a_problem_not_a_crash(version):
    folder, voucher, bureau = version
    assert verify({**voucher, "signature": "%%%"}, bureau, folder) == [
        "signature does not match the voucher body: it was altered or forged"]
    assert "algorithm 'RSA' is not Ed25519" in verify({**voucher, "algorithm": "RSA"}, bureau)
