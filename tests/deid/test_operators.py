import datetime as dt

import pyarrow as pa
import pytest

from yishu.deid import operators


def test_mask_keeps_prefix_and_suffix():
    out = operators.mask(pa.array(["13812345678", "0755-83212345", "abc", None])).to_pylist()
    assert out == ["138****5678", "075******2345", "***", None]


def test_pseudonyms_are_stable_within_a_zone_and_differ_across_zones(res):
    ids = pa.array(["440305199001011234", "440305199001011234", "110101198001010010"])
    insurance = operators.pseudonymize(ids, res.keys.pseudonym_secret("insurance")).to_pylist()
    again = operators.pseudonymize(ids, res.keys.pseudonym_secret("insurance")).to_pylist()
    finance = operators.pseudonymize(ids, res.keys.pseudonym_secret("finance")).to_pylist()
    assert insurance == again
    assert insurance[0] == insurance[1] != insurance[2]
    assert not set(insurance) & set(finance)
    assert all(len(t) == 32 and "4403" not in t for t in insurance)


def test_pseudonym_is_standard_hmac_sha256():
    import hashlib
    import hmac

    values = ["440305199001011234", " 44030519900101123x ", "王秀英", ""]
    for secret in (b"s" * 32, b"k" * 100):  # keys longer than a block are hashed (RFC 2104)
        expected = [hmac.new(secret, v.strip().upper().encode(), hashlib.sha256).hexdigest()[:32]
                    for v in values]
        assert operators.pseudonymize(pa.array(values), secret).to_pylist() == expected


def test_key_files_are_private(res, yishu_home):
    res.keys.pseudonym_secret("insurance")
    path = yishu_home / "keys" / "pseudonym_insurance.key"
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("fn,value,expected", [
    (operators.to_month, "2026-10-15", "2026-10"),
    (operators.to_quarter, "2026-10-15", "2026-Q4"),
    (operators.to_year, "2026-10-15", "2026"),
    (operators.to_month, "15/10/2026", None),
    (operators.gender, "440305199001011234", "男"),
    (operators.gender, "440305199001011248", "女"),
    (operators.province, "440305199001011234", "广东省"),
    (operators.to_district, "广东省深圳市南山区科技园路18号", "广东省深圳市南山区"),
    (operators.to_district, "深圳市福田区福华一路1号", "深圳市福田区"),
    (operators.to_district, "科技园路18号", None),
])
def test_generalize(fn, value, expected):
    assert fn(pa.array([value])).to_pylist() == [expected]


def test_age_band_from_resident_id():
    out = operators.age_band(pa.array(["440305199001011234", "bad"]), on=dt.date(2026, 11, 1))
    assert out.to_pylist() == ["30-39", None]


def test_encrypt_is_deterministic_and_reversible_only_with_the_key(res):
    key = res.keys.encryption_key()
    values = pa.array(["张三", "李四", "张三"])
    sealed = operators.encrypt(values, key, "finance")
    assert sealed[0] == sealed[2] and "张三" not in sealed.to_pylist()
    assert operators.decrypt(sealed, key, "finance").to_pylist() == ["张三", "李四", "张三"]
    other = operators.encrypt(values, key, "insurance")
    assert not set(other.to_pylist()) & set(sealed.to_pylist())  # unlinkable across zones
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        operators.decrypt(sealed, bytes(64), "finance")


@pytest.mark.parametrize("found,shown", [
    ("易彬", "PERSON: 易*"), ("王秀英", "PERSON: 王**"), ("13812345678", "PERSON: 13*******78"),
])
def test_masked_samples_never_show_a_whole_value(found, shown):
    from yishu.deid.scan import masked_sample

    assert masked_sample("PERSON", found) == shown
