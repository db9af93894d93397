"""YAML for the catalog, read with limits: a catalog file is small, flat-ish and plain.

PyYAML's safe loader still expands aliases (a "billion laughs" file of a few lines takes
minutes and gigabytes), recurses once per nesting level (20,000 nested lists raise
RecursionError) and keeps the last of two equal keys silently. This loader refuses aliases
beyond a handful, nesting deeper than `MAX_DEPTH`, files over `MAX_BYTES` and duplicate keys,
each with a `YAMLLimit` naming the line. Booleans are YAML 1.2's, `true` and `false` only:
PyYAML's YAML 1.1 would read `join: {on: uscc}` as `{True: 'uscc'}` (and `no`, `off`, `yes`
as booleans).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_BYTES = 2 << 20  # 2 MB: the largest catalog file is a few kilobytes
MAX_DEPTH = 20
MAX_ALIASES = 50


class YAMLLimit(Exception):
    """The file breaks a limit; the message names the line and what to do."""


def _line(node_or_event) -> str:
    mark = getattr(node_or_event, "start_mark", None)
    return f"line {mark.line + 1}" if mark else "somewhere"


class _Loader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YAMLLimit(f"{_line(self.peek_event())}: more than {MAX_ALIASES} aliases "
                                "(*name): write the values out")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YAMLLimit(f"{_line(self.peek_event())}: nested deeper than {MAX_DEPTH} "
                            "levels: a catalog file is never that deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: let PyYAML word the error
                break
            if duplicate:
                raise YAMLLimit(f"{_line(key_node)}: key '{key}' appears twice in one mapping: "
                                "keep one (the second would silently win)")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def load(text: str) -> Any:
    """The YAML document in `text`, within the limits."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise YAMLLimit(f"the file is over {MAX_BYTES >> 20} MB: a catalog file is a few "
                        "kilobytes; split or fix it")
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader with limits
