"""Random conversations: no exception, every reply offers a way forward, nothing lost."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs import actions as A
from dialogs import commands as C
from dialogs import events as E
from dialogs import handle
from dialogs.flows import STEPS
from tests.dialogs.helpers import T0

USER = (E.Text, E.Choice, E.Location, E.Contact, E.Media, E.Command)
WAITS = {"submit", "lookup", "add", "relay", "wd", "stop", "place", "near"}
TEXTS = [
    "1",
    "2",
    "3",
    "7",
    "12",
    "0",
    "bỏ qua",
    "skip",
    "Xong",
    "done",
    "có",
    "yes",
    "không",
    "thoat nhanh",
    "1234 5678 9012 3456",
    "1234-5678-9012-3456-7890",
    "0912 345 678",
    "+84912345678",
    "Ea Tu",
    "Đắk Lắk",
    "Buôn Ma Thuột",
    "ƀuôn čư ñu ơ̆ ư̆",
    "😀🙏🏽",
    "🏳️‍🌈",
    "ສະບາຍດີ",
    "你好",
    "مرحبا",
    "\u202eevil",
    " ",
    "",
    "a" * 4000,
    "b" * 4001,
    "c" * 9000,
    "Tôi bị đánh",
    "/start",
    "sos",
    "lang",
    "x",
]
COMMANDS = ["start", "help", "exit", "language", "delete", "code", "menu", "bogus", "", "START"]


def _random_event(rng: random.Random, screen_data: list[str], n: int):
    r = rng.random()
    if r < 0.60 and screen_data:
        local = [d for d in screen_data if "." in d]
        if local and rng.random() < 0.97:
            return E.Choice(rng.choice(local))
        return E.Choice(rng.choice(screen_data))
    if r < 0.62:
        kind = rng.random()
        if kind < 0.3:
            return E.Choice(
                f"{rng.randrange(max(1, n + 2)):x}.{rng.choice(['a', 'y', 'n', 'c0', 'c9', 'done', 'skip', 'saved', 'send', 'retry', 'l_vi', 'l_xx'])}"
            )
        if kind < 0.5:
            return E.Choice(rng.choice([A.EXIT, A.SOS, A.LANG]))
        return E.Choice(
            "".join(rng.choice("abc.0123456789xyz_-") for _ in range(rng.randrange(0, 40)))
        )
    if r < 0.77:
        if rng.random() < 0.7:
            return E.Text(rng.choice(TEXTS))
        alphabet = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạ0123456789 .,!?😀🙏\u0306\u0301ƀčñ\n"
        return E.Text("".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 200))))
    if r < 0.80:
        return E.Location(
            rng.choice([12.6, -91.0, float("nan"), 0.0, 21.0]),
            rng.choice([108.0, 200.0, float("inf"), 105.8]),
        )
    if r < 0.83:
        return E.Contact(rng.choice(["0912345678", "+84 91 234 5678", "abc", ""]))
    if r < 0.88:
        return E.Media(
            rng.choice(["voice", "photo", "document", "video", "sticker"]),
            rng.choice(["ref1", "", "r" * 600]),
        )
    if r < 0.90:
        return E.Command(
            rng.choice(COMMANDS[:2] + COMMANDS[3:]) if rng.random() < 0.8 else rng.choice(COMMANDS),
            rng.choice([None, "en", "km", "xx", "1234 5678 9012 3456"]),
        )
    # results, in or out of order
    return rng.choice(
        [
            E.ReportSubmitted("1234 5678 9012 3456", "case-1"),
            E.PlaceCandidates(
                tuple(
                    {"code": str(i), "name": f"Xã {i}", "province_name": "Gia Lai"}
                    for i in range(rng.randrange(0, 8))
                )
            ),
            E.PlaceCandidates(({"junk": 1}, "x", {"code": "1", "name": ""})),
            E.CaseFound(
                "case-1",
                rng.choice(["new", "closed", "weird"]),
                ({"at": "2026-01-01T00:00:00+00:00", "text": "hi"}, {"at": "bad"}),
            ),
            E.CaseNotFound(),
            E.RateLimited(30),
            E.Done(rng.choice(["AddToReport", "RelayToFocal", "DeleteCase", "StopContact", "X"])),
            E.Failed(rng.choice(["SubmitReport", "AddToReport", "LookupReceipt", "SearchPlace"])),
        ]
    )


def _answer_for(cmd, rng: random.Random):
    """What a caller would feed back, sometimes nothing (late or lost)."""
    if rng.random() < 0.2:
        return None
    if isinstance(cmd, C.SubmitReport):
        return (
            E.ReportSubmitted("1111 2222 3333 4444", "case-x")
            if rng.random() < 0.8
            else E.Failed("SubmitReport")
        )
    if isinstance(cmd, C.LookupReceipt):
        return rng.choice(
            [E.CaseFound("case-x", "acknowledged", ()), E.CaseNotFound(), E.RateLimited()]
        )
    if isinstance(cmd, (C.SearchPlace, C.NearestPlaces)):
        return E.PlaceCandidates(
            tuple(
                {"code": str(i), "name": f"Phường {i}", "province_name": "Đắk Lắk"}
                for i in range(rng.randrange(0, 4))
            )
        )
    if isinstance(cmd, C.DeleteCase):
        return E.Done("DeleteCase")
    if isinstance(cmd, (C.AddToReport, C.RelayToFocal, C.StopContact)):
        return E.Done(type(cmd).__name__)
    return None


def check_step(old: dict | None, ev, new: dict, acts: list, cmds: list) -> dict:
    """Check one step; return the state as the caller would store it (JSON round trip)."""
    raw = json.dumps(new)
    stored = json.loads(raw)
    assert stored == new
    assert new["v"] == 1 and len(raw) < 80_000
    # every message with options offers quick exit and the emergency numbers
    for a in acts:
        assert isinstance(a, (A.Send, A.Edit, A.DeleteTracked))
        if isinstance(a, (A.Send, A.Edit)):
            assert a.text.strip()
            datas = [o.data for o in a.options]
            for d in datas:
                assert d.isascii() and len(d.encode()) <= 32
            if a.options:
                assert A.EXIT in datas and A.SOS in datas
    if isinstance(ev, USER):
        quick_exit = any(isinstance(a, A.DeleteTracked) and a.tag is None for a in acts)
        with_options = [a for a in acts if isinstance(a, (A.Send, A.Edit)) and a.options]
        waiting = new.get("w") in WAITS and bool(cmds)
        assert quick_exit or with_options or waiting, (ev, acts, cmds, new.get("s"))
        if quick_exit:
            sends = [a for a in acts if isinstance(a, A.Send)]
            assert len(sends) == 1 and not sends[0].options
    # no collected answer is lost
    if not old or old.get("v") != 1:
        return stored
    dropped = any(isinstance(c, C.DeleteDraft) for c in cmds) or (
        isinstance(ev, E.ReportSubmitted) and old.get("w") == "submit"
    )
    if dropped:
        return stored
    cur = STEPS.get(old.get("s") or "")
    answering = cur.field if cur is not None else None
    old_a, new_a = old.get("a") or {}, new.get("a") or {}
    for k, v in old_a.items():
        assert k in new_a, (k, ev)
        if new_a[k] != v:
            assert k == answering or (old.get("s") == "fix"), (k, v, new_a[k], ev)
    for key in ("acc", "med"):
        o, n = old.get(key) or [], new.get(key) or []
        assert n[: len(o)] == o, key
    return stored


def run_conversation(seed: int, length: int) -> None:
    rng = random.Random(seed)
    state = None
    now = T0
    screen: list[str] = []
    pending: list = []
    for _ in range(length):
        now += timedelta(seconds=rng.choice([1, 5, 90]))
        if pending and rng.random() < 0.8:
            ev = pending.pop(0)
        else:
            ev = _random_event(rng, screen, (state or {}).get("n", 0))
        new, acts, cmds = handle(state, ev, now)
        state = check_step(state, ev, new, acts, cmds)
        for a in acts:
            if isinstance(a, (A.Send, A.Edit)) and a.options:
                screen = [o.data for o in a.options]
        for c in cmds:
            ans = _answer_for(c, rng)
            if ans is not None:
                pending.append(ans)


@settings(
    max_examples=10_000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(seed=st.integers(0, 2**32 - 1), length=st.integers(1, 60))
def test_ten_thousand_random_conversations(seed, length):
    run_conversation(seed, length)


_event = st.one_of(
    st.builds(E.Text, st.text(max_size=50) | st.sampled_from(TEXTS)),
    st.builds(
        E.Choice,
        st.text(max_size=40)
        | st.sampled_from([A.EXIT, A.SOS, A.LANG, "1.safe", "2.me", "3.other"]),
    ),
    st.builds(E.Location, st.floats(allow_nan=True), st.floats(allow_nan=True)),
    st.builds(E.Contact, st.text(max_size=20)),
    st.builds(E.Media, st.sampled_from(["voice", "photo", "x"]), st.text(max_size=20)),
    st.builds(E.Command, st.sampled_from(COMMANDS), st.none() | st.text(max_size=30)),
    st.builds(
        E.PlaceCandidates,
        st.lists(
            st.dictionaries(
                st.sampled_from(["code", "name", "province_name"]), st.text(max_size=10)
            ),
            max_size=6,
        ).map(tuple),
    ),
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_event, max_size=25))
def test_random_event_lists_shrinkable(events):
    state = None
    now = T0
    for ev in events:
        now += timedelta(seconds=3)
        new, acts, cmds = handle(state, ev, now)
        state = check_step(state, ev, new, acts, cmds)
