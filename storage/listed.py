"""A list bound as one parameter: one statement text whatever the list's length.

An expanding ``IN`` renders a new statement for each length of its list: compiled again at
every execution, and prepared and kept again by every PostgreSQL connection (asyncpg keeps
100 statements a connection, which a claim's 1 to 50 ids alone would churn through). Here
the whole list is one parameter: ``= ANY(array)`` on PostgreSQL, ``json_each`` on SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import String, any_, bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")
DIALECTS = ("sqlite", "postgresql")


def one_of(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` equals one of the list bound as ``name`` (bind it with :func:`bound`)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    values = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(sa_select(values.c.value).scalar_subquery())


def bound(dialect: str, values: Iterable[Any]) -> Any:
    """``values`` as :func:`one_of`'s parameter on ``dialect``."""
    listed = list(values)
    return listed if dialect == "postgresql" else json.dumps(listed)


def per_dialect(build: Callable[[str], T]) -> dict[str, T]:
    """``build(dialect)`` for each database the hotline runs on, built once."""
    return {dialect: build(dialect) for dialect in DIALECTS}
