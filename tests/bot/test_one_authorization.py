"""One authorization rule for operations (issue #19): the casework service is the only
part of ``bot`` that asks :mod:`routing.access` whether an operation is allowed. The few
other callers only choose what to show (the inbox's lists, a recording played, the
agencies and people a form offers), never change a case."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
RULES = {"may_act", "may_read", "may_hand", "may_refer", "may_serve"}
# file -> the functions in it that may ask, to decide what to show
VIEWS = {
    "casework/service.py": {"authorize", "_task_held"},
    "web/focal.py": {"_visible", "recording"},
    "web/province.py": {"province"},
    "agencies.py": {"eligible"},
}


def _askers(path: Path) -> set[str]:
    """The functions of ``path`` that call one of the rules."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id in RULES
                ):
                    found.add(node.name)
    return found


def test_only_the_casework_service_authorizes_operations() -> None:
    askers = {
        str(path.relative_to(BOT)): names
        for path in sorted(BOT.rglob("*.py"))
        if (names := _askers(path))
    }
    assert askers, "the rules are called somewhere"
    for name, functions in askers.items():
        assert functions <= VIEWS.get(name, set()), (name, functions)
    assert "authorize" in askers["casework/service.py"]
