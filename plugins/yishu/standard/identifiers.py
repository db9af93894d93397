"""Validators for Chinese identifiers, shared by the suites (standard/) and the recognizers (deid/).

Check digits come from python-stdnum; the wrappers fix two of its edges:
``stdnum.cn.ric`` raises KeyError for some unknown 6-digit prefixes instead of returning False,
and ``stdnum.cn.uscc`` rejects codes whose first two characters are letters, which GB 32100-2015
allows (registration authority and organisation type are drawn from 1-9, A-H, N, Y).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.luhn import is_valid as luhn_is_valid

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_RE = re.compile(r"[1-9A-HNY][1-9A-HNY0-9]\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
_MOBILE_RE = re.compile(r"(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}")
_LANDLINE_RE = re.compile(r"0\d{2,3}-?[2-9]\d{6,7}(?:-\d{1,5})?")
_ICD10_RE = re.compile(r"[A-TV-Z]\d{2}(?:\.\d{1,4})?")
_DIVISION_RE = re.compile(r"[1-8]\d{5}")


def _clean(value: object) -> str:
    return str(value).strip().upper() if value is not None else ""


def division_info(code: str) -> dict[str, str]:
    """Province/city/county names of a GB/T 2260 division code ({} when unknown)."""
    code = _clean(code)
    if not _DIVISION_RE.fullmatch(code):
        return {}
    return {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}


def is_division_code(value: object) -> bool:
    """A 6-digit GB/T 2260 administrative division code that names a known county or city."""
    info = division_info(_clean(value))
    return "county" in info or "city" in info


_RIC_RE = re.compile(r"\d{17}[\dX]")


@cache
def county_years() -> dict[str, tuple[tuple[int, int], ...]]:
    """Every county code in python-stdnum's GB/T 2260 history -> the (first, last) years in which
    it was assigned, read once from `numdb.get('cn/loc')` (entries such as
    '[1983-1989]南头区办事处,[1990-]南山区'). Codes that are not listed are not valid. Same
    reading as stdnum.cn.ric.get_birth_place (tested against it), but a dict lookup instead
    of ~100 µs in numdb per new code: a city-scale table has millions of IDs."""
    table: dict[str, tuple[tuple[int, int], ...]] = {}
    for code, info in division_props(numdb.get("cn/loc").prefixes, "", {}):
        if len(code) != 6 or not info.get("county"):
            continue
        ranges = []
        for county in info["county"].split(","):
            if not county.startswith("["):
                ranges = [(0, 9999)]  # a name without a period: valid in any year
                break
            start, end = county[1:].split("]")[0].split("-")
            ranges.append((int(start or 0), int(end or 9999)))
        table[code] = tuple(ranges)
    return table


def division_props(prefixes, code: str, props: dict):
    """(code, merged properties) of every code in a numdb prefix tree, merged the way
    NumDB.info merges them: entries for the same prefix add up, a level's keys follow its
    parent's."""
    merged: dict[str, tuple[dict, list]] = {}
    for _length, low, high, own, children in prefixes:
        for n in range(int(low), int(high) + 1):
            key = f"{n:0{len(low)}d}"
            mine, kids = merged.setdefault(key, ({}, []))
            mine.update(own)
            kids.extend(children)
    for key, (own, children) in merged.items():
        info = props | own
        yield code + key, info
        yield from division_props(children, code + key, info)


def _ric_valid_18(number: str) -> bool:
    """Same verdict as stdnum.cn.ric.is_valid (MOD 11-2, birth date, county valid in the birth
    year), without its KeyError on some unknown prefixes and fast on millions of IDs."""
    if not _RIC_RE.fullmatch(number) or number[-1] != ric.calc_check_digit(number):
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return any(first <= born.year <= last for first, last in county_years().get(number[:6], ()))


def is_mistyped_resident_id(value: object) -> bool:
    """An 18-digit number with a real county and birth date (county valid in the birth year,
    born 1900 or later and not in the future) whose check digit is wrong: a person's ID with a
    typing error, still personal data."""
    number = _clean(value)
    if not _RIC_RE.fullmatch(number) or _ric_valid_18(number):
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year and born <= dt.date.today() and any(
        first <= born.year <= last for first, last in county_years().get(number[:6], ()))


def is_resident_id(value: object, *, allow_legacy: bool = True) -> bool:
    """18-digit resident ID (MOD 11-2, birth date, county valid in the birth year), or the
    legacy 15-digit form (county + YYMMDD + sequence, no check digit) when allowed."""
    number = _clean(value)
    if len(number) == 18:
        return _ric_valid_18(number)
    if len(number) == 15 and allow_legacy and number.isdigit():
        return _ric_valid_18(upgrade_legacy_resident_id(number))
    return False


def upgrade_legacy_resident_id(number: str) -> str:
    """The 18-digit form of a 15-digit resident ID (century 19, check digit added)."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def resident_id_birth_date(value: object) -> dt.date | None:
    number = _clean(value)
    if len(number) == 15:
        number = upgrade_legacy_resident_id(number)
    try:
        return ric.get_birth_date(number)
    except Exception:  # noqa: BLE001 - any malformed number simply has no birth date
        return None


def resident_id_gender(value: object) -> str | None:
    number = _clean(value)
    if len(number) not in (15, 18) or not number[:17].replace("X", "").isdigit():
        return None
    digit = number[16] if len(number) == 18 else number[14]
    return "男" if int(digit) % 2 else "女"


def is_uscc(value: object) -> bool:
    """GB 32100-2015 unified social credit code, including codes starting with letters."""
    code = _clean(value)
    if not _USCC_RE.fullmatch(code):
        return False
    return code[-1] == uscc.calc_check_digit(code)


def uscc_check_char(body17: str) -> str:
    return uscc.calc_check_digit(body17 + "0")


def is_mobile(value: object) -> bool:
    """Mainland mobile number, optionally with +86/86 and space or dash separators."""
    return bool(_MOBILE_RE.fullmatch(_clean(value)))


def is_landline(value: object) -> bool:
    """Landline with area code, e.g. 0755-83212345 or 010-6512345-801."""
    return bool(_LANDLINE_RE.fullmatch(_clean(value)))


def is_phone(value: object) -> bool:
    return is_mobile(value) or is_landline(value)


def is_icd10(value: object) -> bool:
    """ICD-10 code shape: a letter (U reserved), two digits, optional subcategory."""
    return bool(_ICD10_RE.fullmatch(_clean(value)))


def is_bank_card(value: object) -> bool:
    digits = _clean(value).replace(" ", "").replace("-", "")
    return digits.isdigit() and 16 <= len(digits) <= 19 and luhn_is_valid(digits)


VALIDATORS = {
    "cn_resident_id": is_resident_id,
    "cn_uscc": is_uscc,
    "cn_mobile": is_mobile,
    "cn_landline": is_landline,
    "cn_phone": is_phone,
    "cn_division_code": is_division_code,
    "icd10": is_icd10,
    "bank_card": is_bank_card,
}
