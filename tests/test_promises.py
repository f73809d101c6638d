"""The promise register (dialogs/promises.py) holds: every text id exists, every test exists and
names the texts it proves, and no promising text is left out of it unnoticed."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from dialogs.promises import PROMISES, text_ids

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
CHANNEL_TESTS = ("tests/e2e/", "tests/web/")  # through a channel's real interface

# Vietnamese wording that promises something: who sees, what is sent or deleted, what stops,
# what is kept. Deliberately broad; what it catches that promises nothing is listed below.
PROMISE_WORDING = re.compile(
    r"\bsẽ\b|xoá|xóa|được xem|báo cho|chuyển tới|chuyển tiếp|chuyển đi|đã chuyển|gửi tới|"
    r"gửi thẳng|chỉ dùng|không ai|chỉ nhận|được nhận|dừng|chỉ hiện|được giữ|không được lưu|"
    r"giữ bí mật|báo động|thấy",
    re.IGNORECASE,
)

# Texts the wording above catches that make no promise of their own, and why.
NOT_PROMISES: dict[str, str] = {
    "ws.stop": "the workshop's 'stop recording' button, for a translator",
    "ws.group.other": "a progress group's name in the translators' workshop",
    "status.notified": "a status label, read from the case's stored status",
    "status.transferred": "a status label, read from the case's stored status",
    "place.not_found": "'không tìm thấy': nothing found, nothing promised",
    "fu.not_found": "'không tìm thấy': nothing found, nothing promised",
    "eth.unknown": "'chưa tìm thấy': nothing found, nothing promised",
    "focal.transfer.none": "'không tìm thấy': nothing found, nothing promised",
    "resume.q": "'chỗ đã dừng': where she stopped; a question",
    "note.strangled": "medical advice ('mới thấy': symptoms may show later)",
    "info.rights": "her rights under the law, not what the hotline does",
    "info.law": "a summary of the 2022 law, not what the hotline does",
    "sum.orgs": "a summary label for her answer to sv.orgs (registered: who_sees)",
    "focal.digest.title": "asks the desk to acknowledge or pass on; promises nothing",
    "web.voice_stop": "a button: stop recording and send",
    "web.voice_recording": "how the recorder works (press ■ to stop and send)",
    # option labels: the promise is made, and registered, by the question they answer
    "dg.who_me": "option label of dg.who (registered: urgent_alert)",
    "dg.who_child": "option label of dg.who (registered: urgent_alert)",
    "dg.who_other": "option label of dg.who (registered: urgent_alert)",
    "dg.send_anyway": "option label leading back to dg.who (registered: urgent_alert)",
    "sum.delete": "option label leading to del.q (registered: delete_draft)",
    "del.yes": "option label of del.q (registered: delete_draft)",
    "cmd.delete": "command menu label of /delete, whose del.q is registered (delete_draft)",
    "fu.opt_withdraw": "option label leading to fu.wd_q (registered: withdraw_deletes)",
    "fu.wd_yes": "option label of fu.wd_q (registered: withdraw_deletes)",
}

# Promises no end-to-end test proves yet: each must be proved (and moved to the register)
# or reworded. Listed so the guard below passes while they stay visible.
KNOWN_GAPS: dict[str, str] = {}


@cache
def catalog(lang: str) -> dict[str, str]:
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        entries = read_po(f)
    out = {}
    for message in entries:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else " ".join(message.string)
        out[key] = text
    return out


@cache
def functions_in(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    )


def _mentions(path: Path, text_id: str) -> bool:
    return f'"{text_id}"' in path.read_text(encoding="utf-8")


def test_the_register_is_well_formed():
    ids = [p.id for p in PROMISES]
    assert len(ids) == len(set(ids)), "promise ids are unique"
    for promise in PROMISES:
        assert promise.text_ids and promise.tests and promise.says, promise.id


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_registered_text_exists(lang):
    texts = catalog(lang)
    missing = sorted(t for t in text_ids() if not texts.get(t))
    assert missing == [], f"not in the {lang} catalog: {missing}"


def test_every_registered_test_exists_and_goes_through_a_channel():
    for promise in PROMISES:
        for node in promise.tests:
            path, _, name = node.partition("::")
            assert path.startswith(CHANNEL_TESTS), f"{promise.id}: {node} is not end to end"
            assert (ROOT / path).is_file(), f"{promise.id}: no file {path}"
            assert name in functions_in(path), f"{promise.id}: no test {node}"


def test_each_promise_names_its_texts_in_the_tests_that_prove_it():
    """A test that proves a promise asserts its words too (by id, through the translator)."""
    for promise in PROMISES:
        files = {ROOT / node.partition("::")[0] for node in promise.tests}
        for text_id in promise.text_ids:
            assert any(_mentions(f, text_id) for f in files), (
                f"{promise.id}: {text_id} is named in none of {sorted(f.name for f in files)}"
            )


def test_every_registered_text_is_in_some_test():
    """The issue's rule: a text id from the register missing from every test fails."""
    files = [p for p in TESTS.rglob("test_*.py") if p.name != Path(__file__).name]
    for text_id in sorted(text_ids()):
        assert any(_mentions(f, text_id) for f in files), f"{text_id} is in no test"


def test_no_promising_text_is_left_out_of_the_register():
    registered = text_ids()
    unlisted = sorted(
        key
        for key, text in catalog("vi").items()
        if PROMISE_WORDING.search(text)
        and key not in registered
        and key not in NOT_PROMISES
        and key not in KNOWN_GAPS
    )
    assert unlisted == [], (
        "these texts read like promises: register them in dialogs/promises.py with the "
        f"end-to-end test that proves them, or say why they promise nothing: {unlisted}"
    )


def test_the_lists_beside_the_register_are_current():
    texts = catalog("vi")
    for key in (*NOT_PROMISES, *KNOWN_GAPS):
        assert key in texts, f"{key} is no longer a text"
        assert key not in text_ids(), f"{key} is registered: drop it from the lists here"
