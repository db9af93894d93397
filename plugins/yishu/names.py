"""Names of sources, zones and products: lower_snake_case, because each becomes a folder under
YISHU_HOME (a name like `..` or `a/b` would reach outside its place). The catalog checks them
when it loads; `Storage` checks them again before building a path."""

from __future__ import annotations

import re

from yishu.errors import UserInputError

NAME_RE = re.compile(r"[a-z][a-z0-9_]*")


def check_name(name: object, what: str) -> str:
    """`name` if it is lower_snake_case, else `UserInputError` naming it."""
    if isinstance(name, str) and NAME_RE.fullmatch(name):
        return name
    raise UserInputError(f"{what} name '{name}' is not lower_snake_case (a lowercase letter, "
                         "then lowercase letters, digits, _): rename it in catalog/")
