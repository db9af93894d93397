"""GB/T 2260 division names as a hierarchy (province → city → county), read once from the
table python-stdnum ships (`cn/loc`, the one the address recognizer uses).

Generalizing an address to its district must give a real division name: the longest chain of
known names at the start of the address, each inside the one before it.
"""

from __future__ import annotations

import dataclasses
from functools import cache

from stdnum import numdb

from yishu.standard.identifiers import division_props

# Placeholders at city level ("municipal districts", "counties directly under the province"):
# not names of a place.
_GENERIC = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省",
                      "市")


@dataclasses.dataclass(frozen=True)
class Divisions:
    provinces: dict[str, str]  # a name as written (广东省, 广东) -> the province's full name
    cities: dict[str, frozenset[str]]  # city name -> provinces it lies in
    counties: dict[str, frozenset[tuple[str, str | None]]]  # -> (province, city or None)


def _names(value: str) -> list[str]:
    """Every name of a numdb entry, current and former: '[1983-1989]南头区办事处,[1990-]南山区'."""
    return [n.split("]")[-1] for n in value.split(",") if n.split("]")[-1]]


@cache
def divisions() -> Divisions:
    provinces: dict[str, str] = {}
    cities: dict[str, set[str]] = {}
    counties: dict[str, set[tuple[str, str | None]]] = {}
    city_of: dict[str, str | None] = {}
    for code, info in division_props(numdb.get("cn/loc").prefixes, "", {}):
        province = info.get("province")
        if len(code) != 6 or not province or not info.get("county"):
            continue
        names = [n for n in _names(info["county"]) if n not in _GENERIC]
        if code.endswith("0000"):
            continue  # the province itself
        if code.endswith("00"):  # a prefecture-level city
            city_of[code[:4]] = names[-1] if names else None
            for name in names:
                cities.setdefault(name, set()).add(province)
            continue
        for name in names:
            counties.setdefault(name, set()).add((province, city_of.get(code[:4])))
    every = {p for places in cities.values() for p in places}
    every |= {p for places in counties.values() for p, _ in places}
    for full in every:
        provinces[full] = full
        for suffix in _PROVINCE_SUFFIXES:
            if full.endswith(suffix) and len(full) - len(suffix) >= 2:
                provinces.setdefault(full[: -len(suffix)], full)  # 广东深圳市...
                break
    return Divisions(provinces, {k: frozenset(v) for k, v in cities.items()},
                     {k: frozenset(v) for k, v in counties.items()})


def _longest(text: str, at: int, names, fits) -> str | None:
    for end in range(min(len(text), at + 12), at + 1, -1):
        name = text[at:end]
        if name in names and fits(name):
            return name
    return None


def district_of(address: str) -> tuple[str | None, str | None]:
    """(the address cut after its county/district, after its city or else its province), each
    None when the address does not start with such known names: 深圳市南山区科技园 →
    (深圳市南山区, 深圳市); 深圳市幸福花园小区3栋501 → (None, 深圳市)."""
    table = divisions()
    text, at = address.strip(), 0
    province = _longest(text, 0, table.provinces, lambda n: True)
    if province:
        at += len(province)
        province = table.provinces[province]
    city = _longest(text, at, table.cities,
                    lambda n: province is None or province in table.cities[n])
    if city:
        at += len(city)
    county = _longest(text, at, table.counties, lambda n: any(
        (province is None or p == province) and (city is None or c == city)
        for p, c in table.counties[n]))
    # a municipality (北京市) is its own city; a province alone is coarser still
    city_part = text[:at] if city or province else None
    return (text[:at + len(county)] if county else None), city_part
