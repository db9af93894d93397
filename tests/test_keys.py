"""The bureau's keys: created once and whole even by concurrent first runs, never short, never
re-minted where vouchers were signed, and readable by their owner only."""

import logging
import re
import stat
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from yishu.keys import KeyProblem, Keys
from yishu.resources import Resources
from yishu.settings import Settings
from yishu.storage import Storage


def _keys(home, **secrets) -> Keys:
    return Keys(Settings.for_home(home, secrets=secrets), Storage(home))


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_signing_and_secret_files_are_owner_only(tmp_path):
    keys = _keys(tmp_path / "home")
    keys.signing_key()
    keys.pseudonym_secret("insurance")
    keys.encryption_key()
    folder = tmp_path / "home" / "keys"
    assert _mode(folder) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == [
        "bureau_encryption.key", "bureau_signing.pem", "pseudonym_insurance.key"]
    for path in folder.iterdir():
        assert _mode(path) == 0o600, path.name


@pytest.mark.parametrize("make", [lambda k: k.public_key_pem(),
                                  lambda k: k.pseudonym_secret("insurance")])
def test_a_key_created_after_our_check_is_reread_not_overwritten(tmp_path, monkeypatch, make):
    # another process creates the key between this one's `exists()` and its write: the
    # stale check must not replace the key the other one already uses
    first = make(_keys(tmp_path / "home"))
    monkeypatch.setattr("pathlib.Path.exists", lambda self: False)
    assert make(_keys(tmp_path / "home")) == first


@pytest.mark.parametrize("make", [lambda k: k.public_key_pem(),
                                  lambda k: k.encryption_key()])
def test_concurrent_first_runs_share_one_key(tmp_path, make):
    home, start, got = tmp_path / "home", threading.Barrier(8), []

    def first_run():
        keys = _keys(home)
        start.wait()
        got.append(make(keys))

    threads = [threading.Thread(target=first_run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len(set(got)) == 1
    assert [p.name for p in (home / "keys").iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("name, value, message", [
    ("PSEUDONYM_INSURANCE", "ab" * 16, "16 bytes is too short: at least 32 bytes (64 hex"),
    ("PSEUDONYM_INSURANCE", "", "0 bytes is too short: at least 32 bytes"),
    ("PSEUDONYM_INSURANCE", "xyz", "not a hex string: give 32 random bytes"),
    ("BUREAU_ENCRYPTION", "ab" * 32, "32 bytes is too short: at least 64 bytes (128 hex"),
])
def test_short_or_malformed_environment_keys_are_refused(tmp_path, name, value, message):
    keys = _keys(tmp_path / "home", **{name: value})
    use = keys.encryption_key if name == "BUREAU_ENCRYPTION" else (
        lambda: keys.pseudonym_secret("insurance"))
    with pytest.raises(KeyProblem, match=re.escape(f"YISHU_KEY_{name}: {message}")):
        use()


def test_long_enough_environment_keys_are_used(tmp_path):
    keys = _keys(tmp_path / "home", PSEUDONYM_INSURANCE="ab" * 32, BUREAU_ENCRYPTION="cd" * 64)
    assert keys.pseudonym_secret("insurance") == bytes.fromhex("ab" * 32)
    assert keys.encryption_key() == bytes.fromhex("cd" * 64)
    assert not (tmp_path / "home" / "keys").exists()


def test_a_short_key_file_is_refused_too(tmp_path):
    keys = _keys(tmp_path / "home")
    keys.pseudonym_secret("insurance")
    (tmp_path / "home" / "keys" / "pseudonym_insurance.key").write_text("abcd")
    with pytest.raises(KeyProblem, match="pseudonym_insurance.key: 2 bytes is too short"):
        keys.pseudonym_secret("insurance")


def test_a_signing_key_that_is_not_ed25519_is_refused(tmp_path):
    pem = rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with pytest.raises(KeyProblem, match="YISHU_KEY_SIGNING: not an Ed25519 key"):
        _keys(tmp_path / "home", SIGNING=pem).signing_key()
    with pytest.raises(KeyProblem, match="YISHU_KEY_SIGNING: not an unencrypted PEM"):
        _keys(tmp_path / "home", SIGNING="hello").signing_key()


@pytest.mark.parametrize("signed", ["products/open/p/v1", "audit/head.json"])
def test_no_new_signing_key_in_a_home_that_signed_before(tmp_path, signed):
    home = tmp_path / "home"
    (home / signed).parent.mkdir(parents=True)
    (home / "products/open/p/v1").mkdir() if signed.startswith("products") else (
        home / signed).write_text("{}")
    keys = _keys(home)
    with pytest.raises(KeyProblem, match="already has published versions or a signed audit "
                       "log: a new signing key would not verify them"):
        keys.signing_key()
    assert not (home / "keys" / "bureau_signing.pem").exists()
    assert _keys(home).own_public_key_pem() is None  # and the verifier does not mint one


def test_the_home_is_announced_once_when_created(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="yishu.storage")
    res = Resources.from_settings(Settings.for_home(tmp_path / "elsewhere"))
    res.storage.inbox_path("health_visits", "2026-11-01")
    res.storage.report_dir("health_visits", "2026-11-01")
    res.db.session().close()
    created = [r.getMessage() for r in caplog.records if "created YISHU_HOME" in r.getMessage()]
    assert created == [f"created YISHU_HOME at {tmp_path / 'elsewhere'} (set YISHU_HOME to "
                       "use another state folder)"]


def test_the_database_announces_the_home_it_creates(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="yishu.storage")
    res = Resources.from_settings(Settings.for_home(tmp_path / "db_first"))
    res.db.session().close()
    assert any("created YISHU_HOME at" in r.getMessage() for r in caplog.records)


def test_state_with_personal_data_is_owner_only(tmp_path):
    res = Resources.from_settings(Settings.for_home(tmp_path / "home"))
    home = res.settings.home
    res.storage.inbox_path("health_visits", "2026-11-01")
    res.storage.raw_dir("health_visits", "2026-11-01")
    res.storage.run_work_dir("insurance_visits", "2026-11-01", "run1")
    res.db.session().close()
    for folder in ("inbox", "inbox/health_visits", "raw", "raw/health_visits",
                   "raw/health_visits/2026-11-01", "work", "work/insurance_visits",
                   "work/insurance_visits/2026-11-01", "work/insurance_visits/2026-11-01/run1"):
        assert _mode(home / folder) == 0o700, folder
    assert _mode(home / "yishu.db") == 0o600


def test_concurrent_first_runs_in_processes_share_one_key(tmp_path):
    import subprocess
    import sys

    code = ("import sys\nfrom pathlib import Path\nfrom yishu.keys import Keys\n"
            "from yishu.settings import Settings\nfrom yishu.storage import Storage\n"
            "home = Path(sys.argv[1])\n"
            "print(Keys(Settings.for_home(home), Storage(home)).public_key_pem())\n")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "home")],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for _ in range(6)]
    keys = [p.communicate()[0] for p in runs]
    assert all("BEGIN PUBLIC KEY" in k for k in keys) and len(set(keys)) == 1
