"""The ~20 fixed Shenzhen hospitals: rows of market_enterprise (industry Q) and the hospitals
of health_visits, so the cross-source check hospital_uscc → hospital_name agrees except for the
planted old names. They do not depend on the seed."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa

from yishu.samples.arrays import _arr, _join, _money, _money_strings, _pad, _pick
from yishu.samples.identifiers import _resident_ids, _usccs
from yishu.samples.pools import _pools

DISTRICTS = {  # GB/T 2260 Shenzhen districts and how many registrations each gets (weights)
    "440303": ("罗湖区", 8), "440304": ("福田区", 16), "440305": ("南山区", 16),
    "440306": ("宝安区", 18), "440307": ("龙岗区", 17), "440308": ("盐田区", 2),
    "440309": ("龙华区", 12), "440310": ("坪山区", 4), "440311": ("光明区", 5),
}

# (name, district, old name or None, public institution?, address, established)
_HOSPITALS = [
    ("深圳市人民医院", "440303", None, True, "东门北路1017号", "1946-07-01"),
    ("深圳市罗湖区人民医院", "440303", None, True, "友谊路47号", "1985-03-01"),
    ("深圳市第二人民医院", "440304", None, True, "笋岗西路3002号", "1979-06-01"),
    ("北京大学深圳医院", "440304", "深圳市中心医院", True, "莲花路1120号", "1999-04-01"),
    ("深圳市中医院", "440304", None, True, "福华路1号", "1975-08-01"),
    ("香港大学深圳医院", "440304", "深圳市滨海医院", True, "海园一路1号", "2012-07-01"),
    ("中山大学附属第八医院", "440304", "深圳市福田区人民医院", True, "深南中路3025号",
     "1986-01-01"),
    ("深圳市儿童医院", "440304", None, True, "益田路7019号", "1998-06-01"),
    ("深圳市妇幼保健院", "440304", None, True, "红荔路2004号", "1979-09-01"),
    ("深圳市南山区人民医院", "440305", "深圳市南山医院", True, "桃园路89号", "1984-05-01"),
    ("南方科技大学医院", "440305", "深圳市南山区西丽人民医院", True, "留仙大道6019号",
     "1992-10-01"),
    ("深圳市宝安区人民医院", "440306", None, True, "龙井二路118号", "1984-01-01"),
    ("深圳市宝安区中心医院", "440306", "深圳市宝安区西乡人民医院", True, "乐园路1号",
     "1990-05-01"),
    ("深圳恒生医院", "440306", None, False, "银田路20号", "2004-12-01"),
    ("深圳市龙岗区人民医院", "440307", None, True, "爱龙路53号", "1993-02-01"),
    ("深圳市龙岗中心医院", "440307", None, True, "龙岗大道6082号", "1990-11-01"),
    ("深圳市盐田区人民医院", "440308", None, True, "梧桐路2010号", "1998-07-01"),
    ("深圳市龙华区人民医院", "440309", "深圳市宝安区龙华人民医院", True, "龙观东路38号",
     "1988-03-01"),
    ("深圳市坪山区人民医院", "440310", "深圳市坪山新区人民医院", True, "东门北路19号",
     "1987-06-01"),
    ("深圳市光明区人民医院", "440311", "深圳市光明新区人民医院", True, "华夏路39号",
     "1989-09-01"),
]
_HOSPITAL_WEIGHTS = np.array([9, 4, 8, 9, 6, 7, 6, 6, 6, 7, 4, 7, 5, 3, 6, 5, 2, 5, 3, 3], float)


@lru_cache(maxsize=1)
def _hospital_table() -> pa.Table:
    """The market_enterprise rows of the fixed hospitals (their own seed, not the run's)."""
    rng = np.random.default_rng(2260)
    n = len(_HOSPITALS)
    districts = np.array([h[1] for h in _HOSPITALS])
    # Public hospitals are 事业单位 registered by 机构编制 (12…), the private one an enterprise
    # (91…); their numeric pre-2015 organisation codes never collide with the "MA…" ones.
    prefix = np.where([h[3] for h in _HOSPITALS], "12", "91")
    org8 = np.array([f"{x:08d}" for x in rng.integers(40000000, 80000000, n)])
    male = (rng.random(n) < 0.7).astype(np.int64)
    pools = _pools(2260)
    directors = np.where(male == 1, _pick(rng, pools["male"], n), _pick(rng, pools["female"], n))
    ids, _ = _resident_ids(rng, rng.integers(1955, 1976, n), np.zeros(n, np.int64), male)
    return pa.table({
        "uscc": _usccs(prefix, districts, org8),
        "enterprise_name": _arr([h[0] for h in _HOSPITALS]),
        "legal_rep_name": _arr(directors),
        "legal_rep_resident_id": ids,
        "enterprise_phone": _join("0755-8", _pad(rng.integers(0, 10**7, n), 7)),
        "registered_address": _arr([f"深圳市{DISTRICTS[h[1]][0]}{h[4]}" for h in _HOSPITALS]),
        "district": _arr(districts),
        "industry": _arr(["Q"] * n),
        "registered_capital": _money_strings(_money(rng, np.full(n, 20000.0), 0.6, 10**8)),
        "established_date": _arr([h[5] for h in _HOSPITALS]),
    })
