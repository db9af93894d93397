"""Deterministic, Shenzhen-flavoured sample data for the demo sources.

``generate(source, rows, seed=...)`` returns a pyarrow Table of strings (None for null) with the
columns of ``catalog/sources/<source>.yaml`` in order; the same arguments give byte-identical
output. Faker (zh_CN) is slow, so it only fills small pools of names, streets and company names
once per seed; rows are assembled from those pools with numpy draws and pyarrow string kernels,
which keeps a million rows to a few seconds.

Identifiers are valid by construction: resident IDs use a county code that GB/T 2260 lists for
the birth year plus the MOD 11-2 check digit; USCCs follow GB 32100 (including legal codes that
start with a letter, which stdnum rejects). ``dirty=True`` then plants a deterministic, recorded
share of bad values; ``dirty_rows()`` says which rows and why. Duplicates are counted within
``rows``: a planted duplicate overwrites a row with an exact copy of another clean row, so a
table always has exactly ``rows`` rows.

The ~20 hospitals are fixed (independent of the seed): they are rows of ``market_enterprise``
(industry Q) and the hospitals of ``health_visits``, so the cross-source check of
hospital_uscc → hospital_name agrees except for the planted old names.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from faker import Faker
from stdnum import numdb

from yishu import storage

COLUMNS = {
    "health_visits": [
        "visit_id", "patient_name", "patient_resident_id", "patient_phone", "hospital_uscc",
        "hospital_name", "department", "diagnosis_icd10", "visit_date", "visit_cost",
        "doctor_note",
    ],
    "market_enterprise": [
        "uscc", "enterprise_name", "legal_rep_name", "legal_rep_resident_id", "enterprise_phone",
        "registered_address", "district", "industry", "registered_capital", "established_date",
    ],
    "station_inspections": ["inspection_id", "station_id", "inspection_date", "result", "remark"],
}
SOURCES = tuple(COLUMNS)
_SOURCE_IDS = {"health_visits": 1, "market_enterprise": 2, "station_inspections": 3}

# Share of rows planted dirty per category (rounded to whole rows; categories are disjoint).
# market_enterprise stays mild and never breaks a critical expectation, so it lands in the demo
# while health_visits is quarantined.
DIRTY_SHARES = {
    "health_visits": {
        "resident_id_check_digit": 0.02,
        "null_patient_name": 0.005,
        "null_visit_date": 0.005,
        "bad_phone": 0.01,
        "negative_cost": 0.002,
        "hospital_name_mismatch": 0.01,
        "duplicate": 0.005,
    },
    "market_enterprise": {
        "bad_phone": 0.01,
        "capital_out_of_range": 0.005,
        "null_industry": 0.005,
    },
    # Inspectors sometimes write the station manager's phone into the public remark: the remark
    # is declared L1, so drift detection must stop the product built from it.
    "station_inspections": {
        "phone_in_remark": 0.03,
    },
}

DISTRICTS = {  # GB/T 2260 Shenzhen districts and how many registrations each gets (weights)
    "440303": ("罗湖区", 8), "440304": ("福田区", 16), "440305": ("南山区", 16),
    "440306": ("宝安区", 18), "440307": ("龙岗区", 17), "440308": ("盐田区", 2),
    "440309": ("龙华区", 12), "440310": ("坪山区", 4), "440311": ("光明区", 5),
}
# Patients' resident-ID provinces: mostly Guangdong, some from a handful of neighbours, so the
# quasi-identifier classes (age band, gender, province, month) are mostly large.
PATIENT_PROVINCES = {"44": 0.84, "43": 0.05, "45": 0.04, "36": 0.04, "42": 0.03}
BIRTH_YEARS = (1940, 2008)

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

DEPARTMENTS = ["内科", "外科", "儿科", "妇产科", "眼科", "耳鼻喉科", "口腔科", "皮肤科", "急诊科",
               "中医科"]
_DEPT_WEIGHTS = np.array([28, 12, 4, 8, 7, 7, 8, 7, 11, 8], float)
_DEPT_MEDIAN_COST = np.array([260, 1200, 180, 900, 220, 240, 380, 200, 450, 230], float)
# (ICD-10 codes, chief complaints) per department, in DEPARTMENTS order
_DEPT_DETAIL = [
    (["I10", "E11.9", "J45.0", "K29.7", "J18.9", "E78.5", "I25.1", "J20.9"],
     ["头晕乏力一周", "咳嗽伴发热两天", "胸闷气短三天", "血糖控制不佳", "上腹隐痛半月"]),
    (["K35.8", "K80.2", "K40.9", "M54.5", "S52.5", "L02.4"],
     ["右下腹痛一天", "腰痛两周", "腹股沟包块三月", "摔伤右前臂"]),
    (["J06.9", "A09", "J02.9", "J45.0"],
     ["陪同患儿就诊，发热一天", "陪同患儿就诊，腹泻两天", "陪同患儿就诊，咳嗽三天"]),
    (["O80", "N76.0", "O26.8", "N92.0", "Z34.9"],
     ["停经十周", "月经不规律三月", "下腹坠胀一周", "产检"]),
    (["H52.1", "H10.9", "H25.9", "H40.9"],
     ["视物模糊一月", "眼红眼痒三天", "眼胀头痛"]),
    (["J30.4", "H66.9", "J32.9", "J35.0"],
     ["鼻塞流涕两周", "耳痛伴听力下降", "咽痛三天"]),
    (["K02.9", "K05.1", "K04.0", "K08.1"],
     ["牙痛三天", "刷牙出血", "牙齿松动"]),
    (["L20.9", "L30.9", "L70.0", "B35.4"],
     ["皮疹瘙痒五天", "面部痤疮反复", "足部脱皮瘙痒"]),
    (["S06.0", "R10.4", "S61.0", "T78.4", "R50.9"],
     ["头部外伤两小时", "突发腹痛", "手指割伤出血", "高热不退"]),
    (["M54.5", "G47.0", "K59.0", "R51", "M47.8"],
     ["失眠多梦一月", "颈肩酸痛", "便秘两周", "头痛反复发作"]),
]
_ADVICE = ["嘱多饮水、注意休息", "低盐低脂饮食", "一周后门诊复查", "按时服药，忌辛辣",
           "避免劳累，定期监测血压", "必要时住院观察"]

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
_MOBILE_PREFIXES = np.array([130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152,
                             153, 155, 156, 157, 158, 159, 166, 172, 175, 176, 177, 178, 180,
                             181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 193, 195, 198,
                             199])
_PROVINCE_NAMES = {"44": "广东", "43": "湖南", "45": "广西", "36": "江西", "42": "湖北"}

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])  # GB 11714 organisation code
_RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_RIC_CHECK = np.array(list("10X98765432"))
_ORG_SPACE = 31**6  # enterprise org codes are "MA" + 6 base-31 chars: unique per row index
_VISIT_SPACE = 10**10
_NULL = pa.scalar(None, pa.string())


# ----------------------------------------------------------------------------- public API


def generate(source: str, rows: int, *, seed: int = 7, partition: str = "2026-11-01",
             dirty: bool = True) -> pa.Table:
    """``rows`` rows of ``source``; identical arguments give an identical table."""
    _check(source, rows, seed)
    return _chunk(source, rows, seed=seed, partition=partition, dirty=dirty, chunk=0, offset=0)


def iter_generate(source: str, rows: int, chunk_rows: int = 100_000, *, seed: int = 7,
                  partition: str = "2026-11-01", dirty: bool = True) -> Iterator[pa.Table]:
    """``rows`` rows in Tables of at most ``chunk_rows``; keys are unique across chunks. The
    first chunk equals ``generate(source, min(rows, chunk_rows), ...)``."""
    _check(source, rows, seed)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    for chunk, offset in enumerate(range(0, rows, chunk_rows)):
        yield _chunk(source, min(chunk_rows, rows - offset), seed=seed, partition=partition,
                     dirty=dirty, chunk=chunk, offset=offset)


def dirty_rows(source: str, rows: int, seed: int = 7) -> dict[str, list[int]]:
    """Row positions planted dirty by ``generate(source, rows, seed=seed, dirty=True)``, per
    reason (the keys of DIRTY_SHARES). Reasons are disjoint; "duplicate" lists the copies."""
    _check(source, rows, seed)
    plan, _ = _plan_dirty(source, rows, seed, chunk=0)
    return {reason: positions.tolist() for reason, positions in plan.items()}


def write_sample(source: str, partition: str, rows: int, *, seed: int = 7,
                 dirty: bool = True) -> Path:
    """Write the sample CSV (UTF-8, header, strings quoted) to the source's inbox and return its
    path. Written in chunks of 100,000 rows (``iter_generate``), so up to that size the file
    holds exactly ``generate(source, rows, ...)``."""
    _check(source, rows, seed)
    path = storage.inbox_path(source, partition)
    tmp = path.with_name(path.name + ".tmp")  # renamed at the end: nobody reads half a file
    options = pacsv.WriteOptions(quoting_style="needed")  # quotes every string: commas survive
    schema = pa.schema([(name, pa.string()) for name in COLUMNS[source]])
    with pacsv.CSVWriter(tmp, schema, write_options=options) as writer:
        for table in iter_generate(source, rows, seed=seed, partition=partition, dirty=dirty):
            writer.write_table(table)
    os.replace(tmp, path)
    return path


def sample_rows(source: str, rows: int) -> int:
    """Rows of each sample source when the biggest (health_visits) has ``rows``."""
    share = {"health_visits": 1, "market_enterprise": 2, "station_inspections": 4}[source]
    return max(rows // share, 50)


def hospitals() -> list[dict[str, str]]:
    """The fixed hospital rows of market_enterprise (the same for every seed)."""
    return _hospital_table().to_pylist()


# ----------------------------------------------------------------------------- plumbing


def _check(source: str, rows: int, seed: int) -> None:
    if source not in COLUMNS:
        raise ValueError(f"unknown sample source {source!r}; known: {', '.join(SOURCES)}")
    if rows < 0 or seed < 0:
        raise ValueError("rows and seed must be non-negative")


def _rng(seed: int, source: str, chunk: int, stream: int) -> np.random.Generator:
    """Independent streams per purpose, so planting dirt never shifts the clean values."""
    return np.random.default_rng([seed, _SOURCE_IDS[source], chunk, stream])


def _chunk(source: str, n: int, *, seed: int, partition: str, dirty: bool, chunk: int,
           offset: int) -> pa.Table:
    plan, dup_sources = _plan_dirty(source, n, seed, chunk) if dirty else ({}, None)
    day = np.datetime64(dt.date.fromisoformat(partition), "D")
    build = {"health_visits": _health_visits, "market_enterprise": _market_enterprise,
             "station_inspections": _station_inspections}[source]
    columns = build(_rng(seed, source, chunk, 0), n, seed, day, offset, plan,
                    _rng(seed, source, chunk, 2))
    table = pa.table({name: columns[name] for name in COLUMNS[source]})
    if dup_sources is not None:
        take = np.arange(n)
        take[plan["duplicate"]] = dup_sources  # exact copies of clean rows
        table = table.take(_arr(take))
    return table


def _plan_dirty(source: str, n: int, seed: int, chunk: int):
    """Disjoint seeded row positions per dirty reason, and the clean rows the duplicates copy."""
    rng = _rng(seed, source, chunk, 1)
    first = len(_HOSPITALS) if source == "market_enterprise" and chunk == 0 else 0
    candidates = rng.permutation(np.arange(min(first, n), n))  # the hospital rows stay clean
    plan, used = {}, 0
    for reason, share in DIRTY_SHARES[source].items():
        count = min(int(round(n * share)), len(candidates) - used)
        plan[reason] = np.sort(candidates[used:used + count])
        used += count
    dup_sources = None
    if len(plan.get("duplicate", ())):
        clean = candidates[used:]
        if len(clean):
            dup_sources = rng.choice(clean, size=len(plan["duplicate"]))
        else:  # too few rows to have a clean one to copy
            plan["duplicate"] = plan["duplicate"][:0]
    return plan, dup_sources


def _mask(n: int, positions) -> pa.Array:
    mask = np.zeros(n, bool)
    mask[positions] = True
    return _arr(mask)


def _arr(values, type=None) -> pa.Array:
    """pa.array, but always one chunk (it splits large numpy string arrays)."""
    array = pa.array(values, type)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _s(values) -> pa.Array:
    """numpy values → pyarrow strings."""
    return pc.cast(_arr(values), pa.string())


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _pad(values, width: int) -> pa.Array:
    return pc.utf8_lpad(_s(values), width, padding="0")


def _pick(rng: np.random.Generator, options, n: int, weights=None) -> np.ndarray:
    options = np.asarray(options)
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return options[rng.choice(len(options), size=n, p=p)]


def _pick_grouped(rng: np.random.Generator, groups: np.ndarray, table: np.ndarray,
                  counts: np.ndarray) -> np.ndarray:
    """One uniform choice per row from table[group, :counts[group]]."""
    k = (rng.random(len(groups)) * counts[groups]).astype(np.int64)
    return table[groups, k]


def _ragged(lists: list[list]) -> tuple[np.ndarray, np.ndarray]:
    """Padded 2-D table and lengths of a list of lists (for _pick_grouped)."""
    width = max(len(x) for x in lists)
    return (np.array([list(x) + [x[0]] * (width - len(x)) for x in lists]),
            np.array([len(x) for x in lists]))


def _year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


def _mmdd(days: np.ndarray) -> np.ndarray:
    month = days.astype("datetime64[M]")
    return ((month.astype(np.int64) % 12 + 1) * 100
            + (days - month.astype("datetime64[D]")).astype(np.int64) + 1)


def _date_strings(days: np.ndarray) -> pa.Array:
    return pc.cast(_arr(days.astype("datetime64[D]")), pa.string())


def _money(rng: np.random.Generator, median: np.ndarray, sigma: float, high: float) -> np.ndarray:
    """Lognormal amounts in hundredths, below ``high``."""
    return np.minimum(np.round(median * rng.lognormal(0, sigma, len(median)) * 100),
                      high * 100 - 1).astype(np.int64)


def _money_strings(hundredths: np.ndarray) -> pa.Array:
    sign = np.where(hundredths < 0, "-", "")
    value = np.abs(hundredths)
    return _join(_arr(sign), _s(value // 100), ".", _pad(value % 100, 2))


# ----------------------------------------------------------------------------- pools


@lru_cache(maxsize=8)
def _pools(seed: int) -> dict[str, np.ndarray]:
    """Small Faker-drawn pools; rows pick from them (Faker manages only ~20k names/s)."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    return {
        # zh_CN's name_male()/name_female() are not gendered; its first-name lists are.
        "male": np.array([fake.last_name() + fake.first_name_male() for _ in range(1500)]),
        "female": np.array([fake.last_name() + fake.first_name_female() for _ in range(1500)]),
        "street": np.array([fake.street_name() for _ in range(600)]),
        "company": np.array(sorted({"深圳市" + fake.company() for _ in range(4000)})),
    }


@lru_cache(maxsize=4)
def _county_table(provinces: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Ragged table over group p * Y + y: the county codes of province p that stdnum's GB/T 2260
    data lists in birth year BIRTH_YEARS[0] + y, i.e. the codes ``is_resident_id`` accepts for
    that year (mirrors stdnum.cn.ric.get_birth_place)."""
    years = np.arange(BIRTH_YEARS[0], BIRTH_YEARS[1] + 1)
    children = {p: kids for _, p, _, _, kids in numdb.get("cn/loc").prefixes}
    lists = []
    for prov in provinces:
        valid = []
        for _, c4, _, props, _ in children[prov]:
            names = props.get("county", "")
            if not names or c4.endswith("00") or "市辖区" in names:
                continue  # prefecture level or the 'city districts' placeholder: not on IDs
            mask = np.zeros(len(years), bool)
            for part in names.split(","):
                if not part.startswith("["):
                    mask[:] = True
                    break
                start, end = part[1:].split("]")[0].split("-")
                mask |= (years >= int(start or 0)) & (years <= int(end or 9999))
            valid.append((int(prov + c4), mask))
        for y, year in enumerate(years):
            codes = [code for code, mask in valid if mask[y]]
            if not codes:
                raise RuntimeError(f"no county of province {prov} is valid in {year}")
            lists.append(codes)
    return _ragged(lists)


# ----------------------------------------------------------------------------- identifiers


def _resident_ids(rng: np.random.Generator, birth_years: np.ndarray, province_idx: np.ndarray,
                  male: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """18-digit resident IDs (province from PATIENT_PROVINCES) and the birth dates."""
    n = len(birth_years)
    table, counts = _county_table(tuple(PATIENT_PROVINCES))
    span = BIRTH_YEARS[1] - BIRTH_YEARS[0] + 1
    county = _pick_grouped(rng, province_idx * span + birth_years - BIRTH_YEARS[0], table, counts)
    leap = (birth_years % 4 == 0) & ((birth_years % 100 != 0) | (birth_years % 400 == 0))
    jan1 = (birth_years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    birth = jan1 + (rng.random(n) * (365 + leap)).astype(np.int64)
    seq = rng.integers(1, 500, n) * 2 - male  # odd for men, even for women
    body = county.astype(np.int64) * 10**11 + (birth_years * 10000 + _mmdd(birth)) * 1000 + seq
    total = np.zeros(n, np.int64)
    for j, weight in enumerate(_RIC_WEIGHTS):
        total += (body // 10 ** (16 - j)) % 10 * weight
    return _join(_s(body), _arr(_RIC_CHECK[total % 11])), birth


def _wrong_check_digit(rng: np.random.Generator, ids: pa.Array) -> pa.Array:
    """The same IDs with the check digit swapped for another one (a typo the check catches)."""
    digits = "0123456789X"
    wrong = [digits[(digits.index(i[17]) + int(k)) % 11]
             for i, k in zip(ids.to_pylist(), rng.integers(1, 11, len(ids)), strict=True)]
    return _join(pc.utf8_slice_codeunits(ids, 0, 17), _arr(wrong, pa.string()))


def _usccs(prefix: np.ndarray, district: np.ndarray, org8: np.ndarray) -> pa.Array:
    """GB 32100 codes: 2-char prefix + 6-digit district + GB 11714 organisation code (8 chars
    and its check char) + the USCC check char (the same as identifiers.uscc_check_char)."""
    n = len(org8)
    chars = np.frombuffer(np.asarray(org8, "<U8").tobytes(), np.uint32).reshape(n, 8)
    values = np.where(chars >= ord("A"), chars - 55, chars - 48).astype(np.int64)
    org_check = 11 - (values @ _ORG_WEIGHTS) % 11
    org_check_char = np.where(org_check == 10, "X",
                              np.where(org_check == 11, "0", org_check.astype(str)))
    body = np.strings.add(np.strings.add(np.strings.add(prefix, district), org8), org_check_char)
    codes = np.frombuffer(np.asarray(body, "<U17").tobytes(), np.uint32).reshape(n, 17)
    lookup = np.zeros(128, np.int64)
    lookup[[ord(c) for c in _USCC_ALPHABET]] = np.arange(len(_USCC_ALPHABET))
    check = (31 - (lookup[codes] @ _USCC_WEIGHTS) % 31) % 31
    return _arr(np.strings.add(body, np.array(list(_USCC_ALPHABET))[check]), pa.string())


def _mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    return _pick(rng, _MOBILE_PREFIXES, n) * 10**8 + rng.integers(0, 10**8, n)


def _bad_phones(rng: np.random.Generator, phones: pa.Array) -> pa.Array:
    """Typical entry errors in mobile numbers that no phone validator accepts."""
    kind = _arr(rng.integers(0, 4, len(phones)))
    return pc.choose(kind,
                     pc.utf8_slice_codeunits(phones, 0, 10),  # a digit short
                     _join("12", pc.utf8_slice_codeunits(phones, 2)),  # no such network
                     _join(phones, "0"),  # a digit too many
                     _join(pc.utf8_slice_codeunits(phones, 0, 3), "O",  # letter O for zero
                           pc.utf8_slice_codeunits(phones, 4)))


def _spaced(phones: pa.Array, sep: str) -> pa.Array:
    """138 1234 5678 / 138-1234-5678."""
    return _join(pc.utf8_slice_codeunits(phones, 0, 3), sep,
                 pc.utf8_slice_codeunits(phones, 3, 7), sep, pc.utf8_slice_codeunits(phones, 7))


# ----------------------------------------------------------------------------- hospitals


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


# ----------------------------------------------------------------------------- health_visits


def _health_visits(rng, n, seed, day, offset, plan, dirt) -> dict[str, pa.Array]:
    pools = _pools(seed)
    # A patient pool (~0.8 per visit) gives some repeat visits, as in a real visit log. Ages
    # cluster around working age and the elderly (two bumps), births clipped to 1940–2008.
    n_pat = max(1, int(n * 0.8))
    ages = np.where(rng.random(n_pat) < 0.6, rng.normal(40, 10, n_pat), rng.normal(63, 8, n_pat))
    birth_years = np.clip(_year(day) - np.round(ages).astype(np.int64), *BIRTH_YEARS)
    province = rng.choice(len(PATIENT_PROVINCES), n_pat, p=list(PATIENT_PROVINCES.values()))
    male = (rng.random(n_pat) < 0.5).astype(np.int64)
    names = np.where(male == 1, _pick(rng, pools["male"], n_pat),
                     _pick(rng, pools["female"], n_pat))
    ids, birth = _resident_ids(rng, birth_years, province, male)
    mobiles = _mobiles(rng, n_pat)

    pat = rng.integers(0, n_pat, n)
    names, male, province, birth = names[pat], male[pat], province[pat], birth[pat]
    ids, phones = ids.take(_arr(pat)), _s(mobiles[pat])

    h = rng.choice(len(_HOSPITALS), n, p=_HOSPITAL_WEIGHTS / _HOSPITAL_WEIGHTS.sum())
    dept = rng.choice(len(DEPARTMENTS), n, p=_DEPT_WEIGHTS / _DEPT_WEIGHTS.sum())
    dept = np.where((dept == DEPARTMENTS.index("妇产科")) & (male == 1), 0, dept)  # → 内科
    icd_table, icd_counts = _ragged([d[0] for d in _DEPT_DETAIL])
    complaint_table, complaint_counts = _ragged([d[1] for d in _DEPT_DETAIL])
    visit_days = day - rng.integers(1, 31, n)  # within the 30 days before the partition
    cost = _money(rng, _DEPT_MEDIAN_COST[dept], 0.7, 500_000)
    # Visit ids: an affine bijection of the global row index mod 10^10, unique across chunks.
    a = int(rng.integers(1, _VISIT_SPACE // 10)) * 10 + 3  # odd and not a multiple of 5
    b = int(rng.integers(0, _VISIT_SPACE))
    visit_no = (a * np.arange(offset, offset + n, dtype=np.int64) + b) % _VISIT_SPACE
    age = _year(visit_days) - _year(birth) - (_mmdd(visit_days) < _mmdd(birth))
    notes = _doctor_notes(rng, pools, {
        "name": _arr(names), "gender": _arr(np.where(male == 1, "男", "女")),
        "age": _s(age), "id": ids, "phone": phones,
        "province": _arr(np.array([_PROVINCE_NAMES[p] for p in PATIENT_PROVINCES])[province]),
        "complaint": _arr(_pick_grouped(rng, dept, complaint_table, complaint_counts)),
    })
    hosp = _hospital_table()
    columns = {
        "visit_id": _join("V", _pad(visit_no, 10)),
        "patient_name": _arr(names),
        "patient_resident_id": ids,
        "patient_phone": phones,
        "hospital_uscc": hosp["uscc"].combine_chunks().take(_arr(h)),
        "hospital_name": hosp["enterprise_name"].combine_chunks().take(_arr(h)),
        "department": _arr(np.array(DEPARTMENTS)[dept]),
        "diagnosis_icd10": _arr(_pick_grouped(rng, dept, icd_table, icd_counts)),
        "visit_date": _date_strings(visit_days),
        "visit_cost": _money_strings(cost),
        "doctor_note": notes,
    }
    if plan:
        _plant_health(dirt, n, plan, columns)
    return columns


def _plant_health(rng, n, plan, columns) -> None:
    def replace(column, reason, make):
        rows = plan[reason]
        if len(rows):
            old = columns[column]
            columns[column] = pc.replace_with_mask(old, _mask(n, rows),
                                                   make(old.take(_arr(rows))))

    replace("patient_resident_id", "resident_id_check_digit",
            lambda ids: _wrong_check_digit(rng, ids))
    replace("patient_name", "null_patient_name", lambda v: pa.nulls(len(v), pa.string()))
    replace("visit_date", "null_visit_date", lambda v: pa.nulls(len(v), pa.string()))
    replace("patient_phone", "bad_phone", lambda v: _bad_phones(rng, v))
    replace("visit_cost", "negative_cost", lambda v: _join("-", v))
    # An old name next to a renamed hospital's USCC (a stale master record in the HIS).
    rows = plan["hospital_name_mismatch"]
    if len(rows):
        renamed = np.array([i for i, hosp in enumerate(_HOSPITALS) if hosp[2]])
        pick = _arr(renamed[rng.integers(0, len(renamed), len(rows))])
        table = _hospital_table()
        old_names = _arr([hosp[2] or "" for hosp in _HOSPITALS])
        columns["hospital_uscc"] = pc.replace_with_mask(
            columns["hospital_uscc"], _mask(n, rows), table["uscc"].combine_chunks().take(pick))
        columns["hospital_name"] = pc.replace_with_mask(
            columns["hospital_name"], _mask(n, rows), old_names.take(pick))


_NOTE_TEMPLATES = [  # (weight, parts): "{field}" parts are filled in, the rest is literal text
    (12, ["患者", "{name}", "，", "{gender}", "，", "{age}", "岁，身份证", "{id}", "，电话",
          "{phone}", "，主诉", "{complaint}", "。"]),
    (9, ["由", "{doctor}", "医生接诊，家属", "{family}", "(电话", "{family_phone_spaced}",
         ")陪同，", "{complaint}", "。"]),
    (9, ["联系人：", "{family_surname}", "{title}", "，手机", "{family_phone}", "。", "{advice}",
         "。"]),
    (9, ["{name}", "（身份证号：", "{id}", "）复诊，", "{advice}", "。"]),
    (10, ["患者自述", "{complaint}", "，既往体健，否认药物过敏史。", "{advice}", "。"]),  # no PII
    (10, ["{advice}", "，如有不适随时就诊。"]),  # no PII
    (9, ["患者", "{name}", "电话", "{phone_dashed}", "已核实，", "{advice}", "。"]),
    (8, ["医保身份信息：", "{id}", "，姓名", "{name}", "。", "{complaint}", "，给予对症治疗。"]),
    (12, ["回访电话+86 ", "{phone}", "，患者", "{name}", "表示症状好转。"]),
    (12, ["{name}", "，", "{age}", "岁，", "{province}", "籍，", "{complaint}", "，", "{advice}",
          "。"]),
]
NO_PII_NOTE_PREFIXES = ("患者自述", *_ADVICE)  # how the PII-free notes start (for tests)


def _doctor_notes(rng, pools, fields: dict[str, pa.Array]) -> pa.Array:
    """Free text from varied templates with PII glued to CJK text; ~20% carry no PII."""
    n = len(fields["name"])
    family_male = rng.random(n) < 0.5
    family = _arr(np.where(family_male, _pick(rng, pools["male"], n),
                               _pick(rng, pools["female"], n)))
    family_phone = _s(_mobiles(rng, n))
    fields = {
        **fields,
        "doctor": _arr(_pick(rng, np.concatenate([pools["male"], pools["female"]]), n)),
        "family": family,
        "family_surname": pc.utf8_slice_codeunits(family, 0, 1),
        "title": _arr(np.where(family_male, "先生", "女士")),
        "family_phone": family_phone,
        "family_phone_spaced": _spaced(family_phone, " "),
        "phone_dashed": _spaced(fields["phone"], "-"),
        "advice": _arr(_pick(rng, _ADVICE, n)),
    }
    weights = np.array([w for w, _ in _NOTE_TEMPLATES], float)
    template = rng.choice(len(_NOTE_TEMPLATES), n, p=weights / weights.sum())
    notes, order = [], []
    for t, (_, parts) in enumerate(_NOTE_TEMPLATES):
        rows = np.flatnonzero(template == t)
        if len(rows):
            take = _arr(rows)
            notes.append(_join(*[fields[p[1:-1]].take(take) if p.startswith("{") else p
                                 for p in parts]))
            order.append(rows)
    if not notes:
        return _arr([], pa.string())
    # The notes were built template by template; put them back in row order.
    return pa.concat_arrays(notes).take(_arr(np.argsort(np.concatenate(order))))


# ----------------------------------------------------------------------------- market_enterprise


def _market_enterprise(rng, n, seed, day, offset, plan, dirt) -> dict[str, pa.Array]:
    pools = _pools(seed)
    kind = rng.choice(len(_KINDS), n, p=[share for _, share in _KINDS])
    prefix = np.array([k for k, _ in _KINDS])[kind]
    weights = np.array([w for _, w in DISTRICTS.values()], float)
    district_idx = rng.choice(len(DISTRICTS), n, p=weights / weights.sum())
    district = np.array(list(DISTRICTS))[district_idx]
    district_name = np.array([name for name, _ in DISTRICTS.values()])[district_idx]

    # Organisation codes "MA" + 6 base-31 chars of an affine bijection of the global row index:
    # unique across chunks without any lookup.
    a = int(rng.integers(1, _ORG_SPACE // 31)) * 31 + 1  # not a multiple of 31
    b = int(rng.integers(0, _ORG_SPACE))
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


_INSPECTION_RESULTS = np.array(["正常", "正常", "正常", "故障", "维修中"])
_REMARKS = np.array(["设备运行正常", "充电枪外观完好", "地面标识清晰", "一号桩屏幕故障，已报修",
                     "消防设施齐全", "车位被燃油车占用", "二号桩充电速度偏慢"])


def _station_inspections(rng, n, seed, day, offset, plan, dirt) -> dict[str, pa.Array]:
    """Inspection log of public charging stations (ids as in the UrbanEV station list)."""
    remark = _s(_pick(rng, _REMARKS, n))
    planted = plan.get("phone_in_remark", np.array([], np.int64))
    if len(planted):
        phones = _s(_mobiles(dirt, len(planted)))
        leaked = _join(pc.take(remark, _arr(planted)), "，联系站长", phones)
        remark = pc.replace_with_mask(remark, _mask(n, planted), leaked)
    return {
        "inspection_id": _join("INS", _pad(np.arange(offset, offset + n), 8)),
        "station_id": _s(rng.integers(1001, 2682, n)),
        "inspection_date": _date_strings(day - rng.integers(0, 30, n)),
        "result": _s(_pick(rng, _INSPECTION_RESULTS, n)),
        "remark": remark,
    }
