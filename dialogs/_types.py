"""Shared helpers for the small frozen dataclasses of events, actions and commands."""

from __future__ import annotations

import dataclasses
from typing import Any


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict()  # type: ignore[attr-defined]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Serialisable:
    """Mixin: ``to_dict()`` gives ``{"type": ClassName, **fields}``; ``from_dict`` reverses it."""

    __slots__ = ()
    _registry: dict[str, type]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": type(self).__name__}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            out[f.name] = _plain(getattr(self, f.name))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        kind = data.get("type", cls.__name__)
        target = cls._registry.get(kind)
        if target is None or not issubclass(target, cls):
            raise ValueError(f"unknown {cls.__name__} type: {kind!r}")
        kwargs = {}
        for f in dataclasses.fields(target):
            if f.name in data:
                v = data[f.name]
                conv = getattr(target, "_convert_" + f.name, None)
                kwargs[f.name] = conv(v) if conv else (tuple(v) if isinstance(v, list) else v)
        return target(**kwargs)
