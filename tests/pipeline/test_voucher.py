import json

from yishu.keys import public_key_pem
from yishu.pipeline.voucher import file_sha256, sign, verify


def test_voucher_verifies_and_detects_tampering(tmp_path, fresh_res):
    keys = fresh_res.keys
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    voucher = sign({"product": "p", "version": 1, "files": {"data.csv": file_sha256(data)}},
                   keys)
    assert verify(voucher, tmp_path, keys.public_key_pem()) == []

    forged = json.loads(json.dumps(voucher))
    forged["body"]["version"] = 2
    assert any("signature" in p for p in verify(forged, tmp_path))

    data.write_text("a,b\n1,3\n")
    assert any("data.csv" in p and "altered" in p for p in verify(voucher, tmp_path))


def test_untrusted_key_is_reported(fresh_res):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    voucher = sign({"files": {}}, fresh_res.keys)
    other = public_key_pem(Ed25519PrivateKey.generate().public_key())
    assert any("trusted key" in p for p in verify(voucher, None, other))
