"""market_enterprise (市市场监督管理局): the enterprise registry, the authority of USCCs and
enterprise names; individual businesses (92…) are named after their owners."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yishu.samples.arrays import (
    _NULL,
    _arr,
    _date_strings,
    _join,
    _mask,
    _money,
    _money_strings,
    _pad,
    _pick,
    _s,
    _year,
)
from yishu.samples.hospitals import _HOSPITALS, DISTRICTS, _hospital_table
from yishu.samples.identifiers import (
    _USCC_ALPHABET,
    BIRTH_YEARS,
    PATIENT_PROVINCES,
    _bad_phones,
    _mobiles,
    _resident_ids,
    _usccs,
)
from yishu.samples.pools import _pools

# GB/T 4754 sections of ordinary companies (weights); hospitals are Q.
_INDUSTRY = {"A": 0.5, "B": 0.2, "C": 20, "D": 0.8, "E": 2, "F": 26, "G": 4, "H": 6, "I": 12,
             "J": 1.5, "K": 3, "L": 5, "M": 8, "N": 3, "O": 2, "P": 1, "Q": 0.5, "R": 2,
             "S": 0.3, "T": 0.1}
# Kinds of registrant: (USCC first two chars, share). The letter-first codes (N = rural
# collective, Y = other authority) are legal under GB 32100 but rejected by stdnum.
_KINDS = [("91", 0.84), ("92", 0.10), ("93", 0.01), ("N2", 0.03), ("Y1", 0.02)]
_SHOPS = [("便利店", "F"), ("五金店", "F"), ("水果店", "F"), ("服装店", "F"), ("餐饮店", "H"),
          ("小吃店", "H"), ("理发店", "O")]
_VILLAGES = ["沙井", "福永", "西乡", "松岗", "布吉", "坂田", "平湖", "观澜", "大浪", "石岩", "横岗",
             "葵涌", "公明", "沙头角", "蛇口", "南头", "皇岗", "水围", "岗厦", "湖贝"]

_ORG_SPACE = 31**6  # enterprise org codes are "MA" + 6 base-31 chars: unique per row index


def _market_enterprise(rng, n, seed, day, offset, plan, dirt) -> dict[str, pa.Array]:
    pools = _pools(seed)
    kind = rng.choice(len(_KINDS), n, p=[share for _, share in _KINDS])
    prefix = np.array([k for k, _ in _KINDS])[kind]
    weights = np.array([w for _, w in DISTRICTS.values()], float)
    district_idx = rng.choice(len(DISTRICTS), n, p=weights / weights.sum())
    district = np.array(list(DISTRICTS))[district_idx]
    district_name = np.array([name for name, _ in DISTRICTS.values()])[district_idx]

    # Organisation codes "MA" + 6 base-31 chars of an affine bijection of the global row index:
    # unique across chunks without any lookup (one bijection: drawn from the seed alone; the
    # chunk's own two draws stay, so no other value moves)
    rng.integers(1, _ORG_SPACE // 31), rng.integers(0, _ORG_SPACE)
    whole = np.random.default_rng([seed, 0xE1])
    a = int(whole.integers(1, _ORG_SPACE // 31)) * 31 + 1  # not a multiple of 31
    b = int(whole.integers(0, _ORG_SPACE))
    v = (a * np.arange(offset, offset + n, dtype=np.int64) + b) % _ORG_SPACE
    digits = np.stack([(v // 31**k) % 31 for k in range(5, -1, -1)], axis=1)
    chars = np.ascontiguousarray(np.array(list(_USCC_ALPHABET))[digits])
    org8 = np.strings.add("MA", chars.view("<U6").reshape(n))

    # Name, industry and representative by kind of registrant; an individual business (92) is
    # named after its owner, who is also its legal representative.
    owner_male = (rng.random(n) < 0.65).astype(np.int64)
    owner = np.where(owner_male == 1, _pick(rng, pools["male"], n),
                     _pick(rng, pools["female"], n))
    shop = rng.integers(0, len(_SHOPS), n)
    village = _pick(rng, _VILLAGES, n)
    add = np.strings.add
    name = np.select(
        [prefix == "91", prefix == "92", prefix == "93", prefix == "N2"],
        [_pick(rng, pools["company"], n),
         add(add(add("深圳市", district_name), owner), np.array([s for s, _ in _SHOPS])[shop]),
         add(add("深圳市", village), "果蔬专业合作社"),
         add(add(add("深圳市", district_name), village), "股份经济合作社")],
        add(add("深圳市", village), "社区发展促进会"))
    industry = np.select([prefix == "92", prefix == "93", prefix == "N2", prefix == "Y1"],
                         [np.array([i for _, i in _SHOPS])[shop], "A", "A", "S"],
                         _pick(rng, list(_INDUSTRY), n, list(_INDUSTRY.values())))

    # Established 1990..partition, recent years likelier (Shenzhen's registration boom); the
    # representative was at least 20 then.
    first = np.datetime64("1990-01-01")
    established = first + (rng.beta(2.2, 1.0, n) * (day - first).astype(np.int64)).astype(np.int64)
    birth_years = np.clip(np.minimum(np.round(rng.normal(1978, 10, n)).astype(np.int64),
                                     _year(established) - 20), *BIRTH_YEARS)
    province = rng.choice(len(PATIENT_PROVINCES), n, p=list(PATIENT_PROVINCES.values()))
    ids, _ = _resident_ids(rng, birth_years, province, owner_male)

    mobile = rng.random(n) < 0.4  # the rest are Shenzhen landlines
    phones = pc.if_else(_arr(mobile), _s(_mobiles(rng, n)),
                        _join("0755-8", _pad(rng.integers(0, 10**7, n), 7)))
    room = np.where(rng.random(n) < 0.5,
                    add((rng.integers(1, 40, n) * 100 + rng.integers(1, 30, n)).astype(str), "室"),
                    "")
    address = _join("深圳市", _arr(district_name), _arr(_pick(rng, pools["street"], n)),
                    _s(rng.integers(1, 3000, n)), "号", _arr(room))
    capital = _money(rng, np.where(prefix == "92", 5.0, 200.0), 1.4, 10**8)

    if plan:
        bad = plan["bad_phone"]
        if len(bad):
            take = _arr(bad)
            sub, sub_mobile = phones.take(take), _arr(mobile[bad])
            no_zero = _join("755-8", pc.utf8_slice_codeunits(sub, 6))  # lost its leading 0
            phones = pc.replace_with_mask(phones, _mask(n, bad),
                                          pc.if_else(sub_mobile, _bad_phones(dirt, sub), no_zero))
        out = plan["capital_out_of_range"]
        capital[out] = np.where(dirt.random(len(out)) < 0.5, -capital[out] - 100,
                                capital[out] + 10**10 + 100)  # negative or above 10^8 万元
        industry[plan["null_industry"]] = ""

    columns = {
        "uscc": _usccs(prefix, district, org8),
        "enterprise_name": _arr(name),
        "legal_rep_name": _arr(owner),
        "legal_rep_resident_id": ids,
        "enterprise_phone": phones,
        "registered_address": address,
        "district": _arr(district),
        "industry": pc.if_else(pc.equal(_arr(industry), ""), _NULL, _arr(industry)),
        "registered_capital": _money_strings(capital),
        "established_date": _date_strings(established),
    }
    if offset == 0 and n:  # the hospitals head the registry
        hosp = _hospital_table().slice(0, min(n, len(_HOSPITALS)))
        for col in columns:
            columns[col] = pa.concat_arrays([hosp[col].combine_chunks(),
                                             columns[col].slice(hosp.num_rows)])
    return columns
