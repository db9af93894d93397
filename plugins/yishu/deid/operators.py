"""De-identification operators over Arrow arrays: vectorized, or computed once per distinct value.

drop and keep need no code; the others:
    mask          138****5678: keep a prefix and suffix, star the middle
    pseudonymize  keyed HMAC-SHA256 per zone: joinable inside a zone, unlinkable across zones
    generalize    dates to month/quarter/year; resident ID to age band, gender, province;
                  address to district
    encrypt       deterministic AES-SIV, reversible only with the bureau key
    redact        typed placeholders for PII spans in free text (see text_scanner)

Each operator is declared once, with what it needs and the level it leaves, in registry.py;
the product stage (policy.py) and the streaming engine (engine.py) dispatch through it. This
module imports nothing from the registry: the registry imports it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from yishu.standard import divisions, identifiers


def _per_distinct(array: pa.Array, fn) -> pa.Array:
    """Apply a Python function once per distinct value (IDs repeat; nulls stay null)."""
    encoded = pc.dictionary_encode(array.cast(pa.string()))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    values = pa.array([None if v is None else fn(v) for v in encoded.dictionary.to_pylist()],
                      pa.string())
    return pc.take(values, encoded.indices)


# Characters `mask` keeps (start, end) per entity: what a person needs to tell values apart,
# no more. A phone keeps its operator prefix and last four (138****5678); a resident ID or
# passport number identifies on its own, so it keeps one character at each end; a bank card
# its last four, as banks print it; a name its surname.
MASK_KEEP: dict[str | None, tuple[int, int]] = {
    None: (3, 4), "CN_PHONE": (3, 4), "CN_RESIDENT_ID": (1, 1), "CN_PASSPORT": (1, 1),
    "CN_BANK_CARD": (0, 4), "CN_USCC": (2, 2), "CN_VEHICLE_PLATE": (1, 1), "PERSON": (1, 0),
    "EMAIL_ADDRESS": (1, 0), "CN_ADDRESS": (0, 0), "IP_ADDRESS": (0, 0),
}


def mask_for(entity: str | None) -> tuple[int, int]:
    """(start, end) kept for an entity; an entity not listed keeps one character at each end."""
    return MASK_KEEP.get(entity, (1, 1))


def mask(array: pa.Array, keep_start: int = 3, keep_end: int = 4) -> pa.Array:
    s = pc.utf8_trim_whitespace(array.cast(pa.string()))
    length = pc.utf8_length(s)
    short = pc.less_equal(length, keep_start + keep_end)
    head = pc.utf8_slice_codeunits(s, 0, keep_start)
    tail = pc.utf8_slice_codeunits(s, -keep_end) if keep_end else pc.utf8_slice_codeunits(s, 0, 0)
    middle = pc.binary_repeat("*", pc.max_element_wise(pc.subtract(length, keep_start + keep_end),
                                                       0))
    masked = pc.binary_join_element_wise(head, middle, tail, "")
    # values too short to keep both ends are starred entirely
    return pc.if_else(short, pc.binary_repeat("*", length), masked)


def pseudonymize(array: pa.Array, secret: bytes) -> pa.Array:
    """HMAC-SHA256 (RFC 2104) of the normalized value, truncated to 128 bits. The key's inner
    and outer SHA-256 states are computed once and copied per value: ~2.5x faster than
    hmac.new per value, same tokens."""
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key.ljust(64, b"\0")))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key.ljust(64, b"\0")))

    def token(value: str) -> str:
        h = inner.copy()
        h.update(value.strip().upper().encode())
        o = outer.copy()
        o.update(h.digest())
        return o.hexdigest()[:32]

    return _per_distinct(array, token)


def encrypt(array: pa.Array, key: bytes, zone: str) -> pa.Array:
    """Deterministic AES-SIV with the zone as associated data: equal inside a zone (joinable),
    different and unlinkable across zones, like the pseudonyms."""
    siv = AESSIV(key)
    context = [zone.encode()]
    return _per_distinct(
        array, lambda v: base64.urlsafe_b64encode(siv.encrypt(v.encode(), context)).decode())


def decrypt(array: pa.Array, key: bytes, zone: str) -> pa.Array:
    siv = AESSIV(key)
    context = [zone.encode()]
    return _per_distinct(
        array, lambda v: siv.decrypt(base64.urlsafe_b64decode(v.encode()), context).decode())


def _date_parts(array: pa.Array) -> pa.Array:
    return pc.strptime(pc.utf8_slice_codeunits(array.cast(pa.string()), 0, 10),
                       format="%Y-%m-%d", unit="s", error_is_null=True)


def to_month(array: pa.Array) -> pa.Array:
    return pc.strftime(_date_parts(array), format="%Y-%m")


def to_year(array: pa.Array) -> pa.Array:
    return pc.strftime(_date_parts(array), format="%Y")


def to_quarter(array: pa.Array) -> pa.Array:
    ts = _date_parts(array)
    quarter = pc.cast(pc.quarter(ts), pa.string())
    return pc.binary_join_element_wise(pc.strftime(ts, format="%Y"), quarter, "-Q")


def age_band(array: pa.Array, on: dt.date, width: int = 10) -> pa.Array:
    def band(value: str) -> str | None:
        born = identifiers.resident_id_birth_date(value)
        if born is None:
            return None
        age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        low = max(age, 0) // width * width
        return f"{low}-{low + width - 1}"

    return _per_distinct(array, band)


def gender(array: pa.Array) -> pa.Array:
    return _per_distinct(array, identifiers.resident_id_gender)


def province(array: pa.Array) -> pa.Array:
    def name(value: str) -> str | None:
        return identifiers.division_info(value.strip()[:2] + "0000").get("province")

    return _per_distinct(array, name)


ADDRESS_PLACEHOLDER = "<地址>"


def to_district(array: pa.Array) -> pa.Array:
    """An address cut down to its GB/T 2260 province/city/district names (深圳市南山区), or
    its city when no known district follows (深圳市幸福花园小区3栋501 → 深圳市), else <地址>:
    never a piece of the street address."""
    def district(value: str) -> str:
        county, city = divisions.district_of(value)
        return county or city or ADDRESS_PLACEHOLDER

    return _per_distinct(array, district)


def generalize(array: pa.Array, to: str, on: dt.date) -> pa.Array:
    """Generalize to month/quarter/year (dates), age_band/gender/province (resident ID, ages
    counted on `on`) or district (address)."""
    if to == "age_band":
        return age_band(array, on)
    return {"month": to_month, "quarter": to_quarter, "year": to_year, "gender": gender,
            "province": province, "district": to_district}[to](array)


def redact(array: pa.Array, scanner) -> tuple[pa.Array, Counter]:
    """Typed placeholders for PII spans. Each distinct text is scanned once (templated notes
    repeat); the counts still count every row."""
    encoded = pc.dictionary_encode(array.cast(pa.string()))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    texts = encoded.dictionary.to_pylist()
    occurrences = np.bincount(encoded.indices.drop_null().to_numpy(), minlength=len(texts))
    redacted: list[str | None] = [None] * len(texts)
    counts: Counter = Counter()
    for times in np.unique(occurrences):
        where = np.flatnonzero(occurrences == times)
        out, found = scanner.redact_many([texts[i] for i in where])
        for i, text in zip(where, out, strict=True):
            redacted[i] = text
        counts.update({entity: n * int(times) for entity, n in found.items()})
    return pc.take(pa.array(redacted, pa.string()), encoded.indices), counts

