"""bot.telegram.lazy_models: aiogram's types are built on first use, and every one still builds.

Each check runs in a fresh interpreter: in the test process aiogram may already have been
imported (and its types built) by another test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter at the repository root; return what it printed (JSON)."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_importing_the_channel_leaves_the_types_it_has_not_used_unbuilt():
    found = run_fresh(
        "import json, bot.telegram\n"
        "from aiogram import types\n"
        "models = [getattr(types, n) for n in types.__all__]\n"
        "models = [m for m in models if hasattr(m, '__pydantic_complete__')]\n"
        "built = sum(m.__pydantic_complete__ for m in models)\n"
        "print(json.dumps({'built': built, 'models': len(models),"
        " 'sticker': types.Sticker.__pydantic_complete__}))\n"
    )
    assert found["models"] > 400
    assert not found["sticker"]
    assert found["built"] < found["models"] // 4


def test_every_type_and_method_builds_on_first_use_in_any_order():
    # A name a deferred type cannot resolve shows up as pydantic's "not fully defined" error.
    # The loop runs in a function, as any use in the hotline does: pydantic's build on first
    # use reads the namespace of a frame a few calls up, which a module's top level has not.
    found = run_fresh(
        "import json, random, bot.telegram\n"
        "from aiogram import methods, types\n"
        "from pydantic import BaseModel\n"
        "names = [(types, n) for n in types.__all__] + [(methods, n) for n in methods.__all__]\n"
        "models = [getattr(m, n) for m, n in names]\n"
        "models = [m for m in models if isinstance(m, type) and issubclass(m, BaseModel)]\n"
        "random.Random(22).shuffle(models)\n"
        "def build(model):\n"
        "    try:\n"
        "        model.__pydantic_validator__.validate_python\n"
        "        model.__pydantic_serializer__.to_python\n"
        "    except Exception as exc:\n"
        "        return f'{model.__name__}: {exc}'[:200]\n"
        "def main():\n"
        "    failed = [error for model in models if (error := build(model))]\n"
        "    print(json.dumps({'failed': failed, 'models': len(models)}))\n"
        "main()\n"
    )
    assert found["models"] > 500
    assert found["failed"] == []


def test_an_update_parses_the_same_as_with_the_types_built_at_import():
    update = {
        "update_id": 7,
        "message": {
            "message_id": 3,
            "date": 1700000000,
            "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "A"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            "reply_to_message": {"message_id": 2, "date": 0, "chat": {"id": 42, "type": "private"}},
            "location": {"latitude": 12.6, "longitude": 108.0},
        },
    }
    parse = (
        "import json\n"
        "from aiogram.types import Update\n"
        f"update = Update.model_validate({update!r})\n"
        "print(update.model_dump_json(exclude_unset=True))\n"
    )
    assert run_fresh("import bot.telegram\n" + parse) == run_fresh(parse)


def test_the_answer_of_every_bot_api_method_builds_on_first_use():
    """aiogram validates each answer as ``Response[<what the method returns>]``, a class
    made at the first call: it must resolve the deferred types' names too."""
    found = run_fresh(
        "import json, bot.telegram\n"
        "from aiogram import methods\n"
        "from aiogram.methods.base import Response\n"
        "def main():\n"
        "    failed = []\n"
        "    for name in methods.__all__:\n"
        "        method = getattr(methods, name)\n"
        "        returning = getattr(method, '__returning__', None)\n"
        "        if returning is None or isinstance(returning, property):  # the base class\n"
        "            continue\n"
        "        try:\n"
        "            Response[returning].__pydantic_validator__.validate_python\n"
        "        except Exception as exc:\n"
        "            failed.append(f'{name}: {exc}'[:200])\n"
        "    print(json.dumps({'failed': failed}))\n"
        "main()\n"
    )
    assert found["failed"] == []
