import random

import pytest
from stdnum.cn import ric

from yishu.standard import identifiers


def _stdnum(number: str) -> bool:
    try:
        return ric.is_valid(number)
    except KeyError:  # stdnum raises for some unknown prefixes
        return False


def test_fast_resident_id_check_agrees_with_stdnum():
    rng = random.Random(7)
    ids = []
    for _ in range(5000):
        county = rng.choice(["440305", "440303", "110101", "610481", "440399", "350600"]) \
            if rng.random() < 0.5 else str(rng.randint(110000, 659999))
        body = (f"{county}{rng.randint(1930, 2010):04d}{rng.randint(1, 13):02d}"
                f"{rng.randint(1, 31):02d}{rng.randint(0, 999):03d}")
        check = ric.calc_check_digit(body + "0") if rng.random() < 0.8 else rng.choice(
            "0123456789X")
        ids.append(body + check)
    assert [identifiers.is_resident_id(i) for i in ids] == [_stdnum(i) for i in ids]
    assert sum(map(identifiers.is_resident_id, ids)) > 500  # the sample holds valid ones


@pytest.mark.parametrize("number,valid", [
    ("44030519900101123X", True),   # 南山区, assigned from 1990
    ("44030519820101123X", False),  # code 440305 was first assigned in 1983
    ("440399199001011235", False),  # no such county: stdnum raises KeyError, we say False
    ("440305199001011234", False),  # wrong check digit
    ("440305900101123", True),      # legacy 15-digit form
])
def test_resident_id_edges(number, valid):
    assert identifiers.is_resident_id(number) is valid


def test_county_table_agrees_with_stdnum_around_every_boundary_year():
    # every county code stdnum knows (and some it does not), around every year a code was
    # created or retired: the precomputed table answers like stdnum's own lookup
    table = identifiers.county_years()
    assert len(table) > 3000
    assert table["440305"] == ((1983, 1989), (1990, 9999))  # 南头区办事处, then 南山区
    bounds = sorted({y for ranges in table.values() for r in ranges for y in r
                     if 1800 < y < 2100})
    years = sorted({y + d for y in bounds for d in (-1, 0, 1)} | {1900, 1950, 2000, 2024})
    rng = random.Random(2)
    codes = list(table) + [f"{rng.randint(100000, 899999)}" for _ in range(500)]
    for code in codes:
        for year in rng.sample(years, 3) + [1984, 2011]:
            body = f"{code}{year}0101001"
            number = body + ric.calc_check_digit(body + "0")
            assert identifiers.is_resident_id(number) == _stdnum(number), number
