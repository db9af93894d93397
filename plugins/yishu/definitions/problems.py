"""How catalog problems are worded, including pydantic's validation errors.

Every problem is one line `<file>: <yaml.path.to.field>: <what is wrong>: <what to do>`, in
the words of the YAML (`from`, not the field `source_column`); all of them are raised
together in one `CatalogError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic.dataclasses import is_pydantic_dataclass
from typing_extensions import get_type_hints, is_typeddict


class CatalogError(Exception):
    """The catalog is inconsistent; `problems` lists each one as 'file: field: what to do'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def describe(value: Any) -> str:
    """A YAML value in words: 'a string 'five'', 'true', 'a list', 'nothing'."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    for kind, what in ((str, "a string"), (int, "a whole number"), (float, "a number"),
                       (dt.datetime, "a date and time"), (dt.date, "a date")):
        if isinstance(value, kind):
            return f"{what} {value!r}" if kind is str else f"{what} {value}"
    return {dict: "a mapping", list: "a list"}.get(type(value), f"a {type(value).__name__}")


# pydantic error type: what the field expects
_EXPECTED = {"string_type": "a string", "int_type": "a whole number", "float_type": "a number",
             "bool_type": "true or false", "dict_type": "a mapping",
             "dataclass_type": "a mapping", "typed_dict_type": "a mapping",
             "tuple_type": "a list", "list_type": "a list"}
_HINTS = {"a string": "quote it", "a mapping": "write {field: value, ...}",
          "a list": "write [a, b, ...]"}
_UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")


def validation_problems(errors: Iterable[Mapping[str, Any]], *, root: Any, file: Path,
                        where: str, filled: Mapping[type, Collection[str]]) -> list[str]:
    """Pydantic's `errors()` of validating YAML as type `root`, as problem lines.

    `where` is the YAML path of the validated value ('' for a whole file); `filled` names the
    fields the loader fills in itself (an entry's `name` is its YAML key), which users do not
    write. Unknown and missing fields are gathered into one line per mapping.
    """
    order: dict[Any, None] = {}  # problem lines and groups of fields, in order, once each
    groups: dict[tuple[tuple, str], list[str]] = {}
    for err in errors:
        loc, kind, value = tuple(err["loc"]), err["type"], err.get("input")
        if kind in _UNKNOWN or kind == "missing":
            group = (loc[:-1], "unknown" if kind in _UNKNOWN else "missing")
            groups.setdefault(group, []).append(str(loc[-1]))
            order[group] = None
        elif loc and (loc[-1] == "[key]" or
                      loc[-1] in _filled(_type_at(root, loc[:-1]), filled)):
            # the entry's name is its YAML key
            order[f"{_path(root, loc[:-1], where)}: expected a name, got {describe(value)}: "
                  "quote it"] = None
        else:
            order[f"{_path(root, loc, where)}: {_what(err, _type_at(root, loc))}"] = None
    return [f"{file}: {item}" if isinstance(item, str) else
            f"{file}: {_path(root, item[0], where)}: "
            f"{_fields_wrong(root, item, groups[item], filled)}" for item in order]


def _fields_wrong(root: Any, group: tuple[tuple, str], names: list[str],
                  filled: Mapping[type, Collection[str]]) -> str:
    parent, kind = group
    if kind == "missing":
        return f"missing required field(s) {sorted(names)}: add them"
    tp = _type_at(root, parent)
    allowed = sorted(set(_fields(tp) or ()) - set(_filled(tp, filled)))
    return f"unknown field(s) {sorted(names)}: allowed are {allowed}"


def _what(err: Mapping[str, Any], tp: Any) -> str:
    """What is wrong with one value, and what to do."""
    value = err.get("input")
    if err["type"] == "literal_error":
        return f"{value!r} is not one of {list(get_args(tp))}: use one of them"
    expected = _EXPECTED.get(err["type"])
    if expected is None:  # not expected from YAML: pydantic's own words
        msg = err["msg"]
        return f"{msg[:1].lower()}{msg[1:]}: fix it"
    if expected == "a mapping" and get_origin(tp) is dict and _fields(get_args(tp)[1]):
        # a mapping of named entries (columns, elements, zones), often written as a list
        return (f"expected a mapping ({{name: {{...}}}}), got {describe(value)}: write one "
                f"`name:` entry per line{', not a `- ` list' if isinstance(value, list) else ''}")
    hint = _HINTS.get(expected, f"write {expected}")
    if value is None and expected == "a string":
        hint = "write a string"
    return f"expected {expected}, got {describe(value)}: {hint}"


def _unwrap(tp: Any) -> Any:
    """The type inside `Annotated[...]` and `... | None`."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, UnionType) and type(None) in get_args(tp):
            rest = [a for a in get_args(tp) if a is not type(None)]
            if len(rest) != 1:
                return tp
            tp = rest[0]
        else:
            return tp


def _fields(tp: Any) -> dict[str, Any] | None:
    """YAML key -> type, for a dataclass or TypedDict; None for any other type."""
    if is_pydantic_dataclass(tp):
        return {f.alias or name: f.annotation for name, f in tp.__pydantic_fields__.items()}
    if is_typeddict(tp):
        return get_type_hints(tp)
    return None


def _filled(tp: Any, filled: Mapping[type, Collection[str]]) -> Collection[str]:
    return filled.get(tp, ()) if isinstance(tp, type) else ()


def _child(tp: Any, part: Any) -> Any:
    fields = _fields(tp)
    if fields is not None:
        return _unwrap(fields.get(part))
    args = get_args(tp)
    if get_origin(tp) is dict and args:
        return _unwrap(args[0] if part == "[key]" else args[1])
    if get_origin(tp) in (tuple, list) and args:
        return _unwrap(args[0])
    return None


def _type_at(root: Any, loc: tuple) -> Any:
    tp = _unwrap(root)
    for part in loc:
        tp = _child(tp, part)
    return tp


def _path(root: Any, loc: tuple, where: str) -> str:
    """The YAML path of `loc`: columns.visit_id.element, exclude_rows[0].starts_with."""
    path, tp = where, _unwrap(root)
    for part in loc:
        if get_origin(tp) in (tuple, list):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
        tp = _child(tp, part)
    return path or "top level"

