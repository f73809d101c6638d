"""Import aiogram with its pydantic models built on first use instead of all at import.

``aiogram.types`` ends by rebuilding every one of its ~450 Telegram types (aiogram issue
#1513), and each rebuilt type compiles its own copy of the validators of every type it
holds: some 105 MB of a worker's resident memory, for types the hotline never receives or
sends. The types are declared ``defer_build=True``; only that closing loop builds them. Here
the loop only hands each type the namespace it would have been rebuilt with, so pydantic
builds a type (and a method holding types) the first time it validates or serialises one,
resolving the same names as the loop would have.

If pydantic no longer builds a deferred type that way, the types are built as aiogram
builds them: the memory is lost, never the channel.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def defer_aiogram_models() -> None:
    """Import aiogram, leaving its types and methods to be built on first use.

    Does nothing when aiogram is already imported (its types are built by then).
    """
    if "aiogram" in sys.modules:
        return
    namespace: dict[str, Any] = {}
    rebuild = BaseModel.__dict__["model_rebuild"]

    def hand_over_namespace(cls: type[BaseModel], **kwargs: Any) -> bool | None:
        names: Mapping[str, Any] | None = kwargs.get("_types_namespace")
        if names is None or cls.__pydantic_complete__:
            return rebuild.__func__(cls, **kwargs)
        namespace.update(names)
        # pydantic resolves a deferred model's names in this namespace when it builds it.
        cls.__pydantic_parent_namespace__ = namespace
        return None

    BaseModel.model_rebuild = classmethod(hand_over_namespace)  # type: ignore[method-assign]
    try:
        import aiogram  # noqa: F401 - the import whose closing loop is deferred
        from aiogram import methods, types
        from aiogram.methods.base import Response
    finally:
        BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]
    # Methods holding a type were left incomplete behind the types: they need the same names,
    # and so does the answer of a call (``Response[Message]``, made at the first call).
    for model in _models(methods):
        if not model.__pydantic_complete__:
            model.__pydantic_parent_namespace__ = namespace
    Response.__pydantic_parent_namespace__ = namespace
    if not _builds_on_first_use(types.Update, methods.SendMessage):
        for model in _models(types):
            model.model_rebuild(_types_namespace=namespace)


def _models(module: Any) -> list[type[BaseModel]]:
    """The pydantic models a package of aiogram exports."""
    exported = (getattr(module, name) for name in module.__all__)
    return [item for item in exported if isinstance(item, type) and issubclass(item, BaseModel)]


def _builds_on_first_use(*models: type[BaseModel]) -> bool:
    """Whether pydantic builds these deferred models when first used."""
    try:
        for model in models:
            model.__pydantic_validator__.validate_python  # noqa: B018 - builds a deferred one
    except Exception:  # noqa: BLE001 - pydantic's "not fully defined" error, whatever its type
        return False
    return True
