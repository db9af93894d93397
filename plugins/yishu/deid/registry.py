"""The de-identification operators, each declared once.

Every other module (catalog checks, policy, engine, auto mode, level computation) reads operator
names and properties from here, so adding an operator is one call:

    def initials(array, ctx):                      # (pa.Array, Context) -> (pa.Array, Counter)
        ...
        return out, Counter()

    register(Operator("initials", initials, level_after="L2"))

The vectorized code stays in operators.py, which imports nothing from here; the functions below
only adapt it to the one signature.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from yishu.deid import operators

GENERALIZE_TO = ("month", "quarter", "year", "age_band", "gender", "province", "district")
# What an operator may need, passed in through the Context by whoever runs it:
#   secret   the zone's pseudonymization secret     key      the bureau encryption key
#   zone     the zone's name (encryption context)   scanner  a TextScanner (free text)
#   date     the reference date (ages are counted on it; default today)
NEEDS = frozenset({"secret", "key", "zone", "scanner", "date"})
# Levels are defined in yishu.definitions (whose checks import this module): matched, not imported.
_LEVEL_RE = re.compile(r"L[1-4]")


@dataclass(frozen=True)
class Context:
    """What one operator run gets besides its column, filled in by whoever runs it (engine,
    policy): what the operator `needs` is always there, the rest may be None."""

    to: str | None = None  # the column's `to:` (generalize: one of GENERALIZE_TO)
    secret: bytes | None = None
    key: bytes | None = None
    zone: str | None = None
    on: dt.date | None = None  # reference date
    scanner: Any = None
    entity: str | None = None  # the column's element's pii_entity (mask keeps a share for it)


Apply = Callable[[pa.Array, Context], tuple[pa.Array, Counter]]


@dataclass(frozen=True)
class Operator:
    name: str
    apply: Apply | None = None  # None: the column is not published (drop)
    level_after: str | None = None  # level it leaves, capped by the element's; None: unchanged
    needs: frozenset[str] = frozenset()  # a subset of NEEDS
    free_text: bool = False  # may run on a free-text column
    targets: tuple[str, ...] = ()  # accepted `to:` values (generalize); () = takes no `to:`
    passthrough: bool = False  # publishes the source values as they are (typed per element)

    @property
    def publishes(self) -> bool:
        return self.apply is not None


OPERATORS: dict[str, Operator] = {}


def register(operator: Operator) -> Operator:
    """Declare an operator. A name is registered once: silently replacing `mask` by something
    weaker would change what every product publishes."""
    if operator.name in OPERATORS:
        raise ValueError(f"operator {operator.name!r} is already registered")
    if not operator.needs <= NEEDS:
        raise ValueError(f"operator {operator.name!r}: unknown needs "
                         f"{sorted(operator.needs - NEEDS)}; known: {sorted(NEEDS)}")
    if operator.level_after is not None and not _LEVEL_RE.fullmatch(operator.level_after):
        raise ValueError(f"operator {operator.name!r}: level_after must be L1..L4")
    OPERATORS[operator.name] = operator
    return operator


def unregister(name: str) -> None:
    """Forget an operator (tests that register one of their own clean up with this)."""
    OPERATORS.pop(name, None)


def get(name: str) -> Operator:
    return OPERATORS[name]


def policy_names() -> tuple[str, ...]:
    """Every operator a product column may name as its `policy`."""
    return tuple(OPERATORS)


def needs_of(policies: Iterable[str]) -> frozenset[str]:
    """Everything these operators need together: what to load (keys, scanner) before a run."""
    return frozenset().union(*(OPERATORS[p].needs for p in policies))


def apply(array: pa.Array, policy: str, ctx: Context) -> tuple[pa.Array, Counter]:
    """One operator on one column; the Counter holds entities redacted (free text only)."""
    operator = get(policy)
    if operator.apply is None:
        raise ValueError(f"policy '{policy}' cannot produce a column")
    return operator.apply(array, ctx)


# ----------------------------------------------------------------------------- the operators


def _keep(array: pa.Array, ctx: Context) -> tuple[pa.Array, Counter]:
    return array, Counter()


def _mask(array: pa.Array, ctx: Context) -> tuple[pa.Array, Counter]:
    return operators.mask(array, *operators.mask_for(ctx.entity)), Counter()


def _pseudonymize(array: pa.Array, ctx: Context) -> tuple[pa.Array, Counter]:
    return operators.pseudonymize(array, ctx.secret), Counter()


def _generalize(array: pa.Array, ctx: Context) -> tuple[pa.Array, Counter]:
    return operators.generalize(array, ctx.to, ctx.on or dt.date.today()), Counter()


def _encrypt(array: pa.Array, ctx: Context) -> tuple[pa.Array, Counter]:
    return operators.encrypt(array, ctx.key, ctx.zone), Counter()


def _redact(array: pa.Array, ctx: Context) -> tuple[pa.Array, Counter]:
    return operators.redact(array, ctx.scanner)


register(Operator("drop", free_text=True))
register(Operator("keep", _keep, free_text=True, passthrough=True))
register(Operator("mask", _mask, level_after="L2"))
register(Operator("pseudonymize", _pseudonymize, level_after="L3", needs=frozenset({"secret"})))
register(Operator("generalize", _generalize, level_after="L2", needs=frozenset({"date"}),
                  targets=GENERALIZE_TO))
register(Operator("encrypt", _encrypt, level_after="L3", needs=frozenset({"key", "zone"})))
register(Operator("redact", _redact, level_after="L2", needs=frozenset({"scanner"}),
                  free_text=True))
