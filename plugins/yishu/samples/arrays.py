"""Vectorized helpers that build Arrow string columns from numpy draws (the generator's
building blocks: a million rows take seconds because no row is built in Python)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NULL = pa.scalar(None, pa.string())


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
