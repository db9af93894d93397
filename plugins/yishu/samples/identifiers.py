"""Identifiers valid by construction, vectorized: resident IDs whose county code GB/T 2260
lists for the birth year (with the MOD 11-2 check digit), GB 32100 USCCs (including the
letter-first codes stdnum rejects), mobile numbers, and the typos a validator must catch."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import numdb

from yishu.samples.arrays import _arr, _join, _mmdd, _pick, _pick_grouped, _ragged, _s

# Patients' resident-ID provinces: mostly Guangdong, some from a handful of neighbours, so the
# quasi-identifier classes (age band, gender, province, month) are mostly large.
PATIENT_PROVINCES = {"44": 0.84, "43": 0.05, "45": 0.04, "36": 0.04, "42": 0.03}
BIRTH_YEARS = (1940, 2008)

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
