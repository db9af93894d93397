"""The demo's operator act: over real HTTP on a free port, a licensed operator downloads the
product, checks its voucher with the pinned key, reads it through Delta Sharing and sees its
usage; a rerun reuses the operator and its licence."""

from __future__ import annotations

from rich.console import Console

from tests.api.conftest import publish
from yishu.access import licences
from yishu.cli.demo_operator import OPERATOR, operator_story


def test_the_operator_act_downloads_verifies_and_reruns(fresh_res):
    res = fresh_res
    res.keys.signing_key()
    publish(res, "insurance_visits", 1, "L2", 3)
    publish(res, "insurance_visits", 2, "L3", 4)
    outputs = []
    for _ in range(2):
        console = Console(record=True, width=200)
        operator_story(console, res)
        outputs.append(console.export_text())
    first, second = outputs
    assert "insurance_visits_v2.parquet (4 rows" in first
    assert "pinned key" in first and ": valid" in first
    assert "4 rows, the same table" in first
    assert "2 downloads, 8 rows" in first  # the download and the Delta Sharing link
    assert "4 downloads, 16 rows" in second
    assert [op.name for op in licences.list_operators(res)] == [OPERATOR]
    assert len(licences.list_licences(res)) == 1
    assert (res.settings.home / "operator" / "bureau.pub").read_text() == \
        res.keys.public_key_pem()


def test_a_tampered_download_is_reported(fresh_res, monkeypatch):
    res = fresh_res
    res.keys.signing_key()
    publish(res, "insurance_visits", 1, "L2", 3)
    monkeypatch.setattr("yishu.cli.demo_operator.file_sha256", lambda path: "0" * 64)
    console = Console(record=True, width=200)
    operator_story(console, res)
    assert "SHA-256 differs from the voucher" in console.export_text()
