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
    (operators.to_district, "科技园路18号", "<地址>"),
    # a housing estate is not a district: the city is all that is certain
    (operators.to_district, "深圳市幸福花园小区3栋501", "深圳市"),
    (operators.to_district, "北京市朝阳区建国路1号", "北京市朝阳区"),
    (operators.to_district, "北京市幸福小区1号", "北京市"),  # a municipality is its own city
    (operators.to_district, "湖北省仙桃市沔阳大道1号", "湖北省仙桃市"),  # county-level city
    (operators.to_district, "广东深圳市罗湖区东门", "广东深圳市罗湖区"),
    (operators.to_district, "广东省北京市东城区", "广东省"),  # Beijing is not in Guangdong
    (operators.to_district, "某某县幸福村", "<地址>"),  # 某某县 is no county
])
def test_generalize(fn, value, expected):
    assert fn(pa.array([value])).to_pylist() == [expected]


def test_generalized_addresses_are_division_names_only():
    """Every generalized sample address is a chain of GB/T 2260 names, or the placeholder."""
    from yishu.samples import generate
    from yishu.standard.divisions import divisions

    table = divisions()
    known = set(table.provinces) | set(table.cities) | set(table.counties)
    addresses = generate("market_enterprise", 300, seed=2).column("registered_address")
    for value in set(operators.to_district(addresses).to_pylist()) - {None, "<地址>"}:
        rest = value
        while rest:  # peel known names off the front
            name = next((rest[:n] for n in range(len(rest), 1, -1) if rest[:n] in known), None)
            assert name, (value, rest)
            rest = rest[len(name):]


@pytest.mark.parametrize("entity,value,expected", [
    ("CN_PHONE", "13812345678", "138****5678"),
    ("CN_PASSPORT", "E12345678", "E*******8"),  # not E12**5678: 7 of 9 characters
    ("CN_RESIDENT_ID", "440305199001011234", "4****************4"),
    ("CN_BANK_CARD", "6222021234567890123", "***************0123"),
    ("PERSON", "王秀英", "王**"),
    (None, "1234567", "*******"),  # as long as what would be kept: starred whole
    (None, "12345678", "123*5678"),
])
def test_mask_keeps_a_share_suited_to_the_entity(entity, value, expected):
    from yishu.deid import registry

    out, _ = registry.apply(pa.array([value]), "mask", registry.Context(entity=entity))
    assert out.to_pylist() == [expected]


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
