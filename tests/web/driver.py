"""A person on the web chat, through the JSON API (the browser tests use the page)."""

from __future__ import annotations

import re

import httpx

from tests.dialogs.helpers import DANGER_SKIPPED

CODE = re.compile(r"(\d{4}[ -]?){3}\d{4}")


class WebPerson:
    def __init__(self, base_url: str, lang: str | None = None) -> None:
        # plain HTTP on loopback: verify=False skips building a TLS context (loading the CA
        # bundle), which cost the random walker a walk's worth of CPU in every ten
        self.http = httpx.Client(base_url=base_url, timeout=30, verify=False)
        self.lang = lang
        self.session: str | None = None
        self.seq = 0
        self.last = 0
        self.messages: list[dict] = []  # what the page would show, edits/deletes applied

    def close(self) -> None:
        self.http.close()

    # -- the page's operations ---------------------------------------------------------------

    def _apply(self, answer: dict) -> None:
        for op in answer["ops"]:
            if op["id"] <= self.last:
                continue
            self.last = op["id"]
            if op["op"] == "send":
                self.messages.append(op)
            elif op["op"] == "edit":
                tagged = [m for m in self.messages if m.get("tag") == op["tag"]]
                if tagged:
                    tagged[-1].update(text=op["text"], options=op["options"])
                else:
                    self.messages.append(op | {"op": "send"})
            elif op["op"] == "delete":
                self.messages = [m for m in self.messages if m.get("tag") != op["tag"]]
            elif op["op"] == "clear":
                self.messages = []
        self.last = max(self.last, answer["last"])

    def start(self) -> None:
        answer = self.http.post("/api/chat/start", json={"lang": self.lang})
        answer.raise_for_status()
        body = answer.json()
        self.session = body["session"]
        self._apply(body)

    def event(self, event: dict) -> httpx.Response:
        self.seq += 1
        answer = self.http.post(
            "/api/chat/event",
            json={"seq": self.seq, "after": self.last, "event": event},
            headers={"X-Session": self.session},
        )
        if answer.status_code == 200:
            self._apply(answer.json())
        return answer

    def voice(
        self,
        data: bytes,
        *,
        kind: str = "audio/webm;codecs=opus",
        ms: int | None = None,
        lang: str | None = None,
        seq: int | None = None,
    ) -> httpx.Response:
        """Post a recording as the page does (raw body, the session header)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        params: dict = {"seq": seq, "after": self.last}
        if ms is not None:
            params["ms"] = ms
        if lang is not None:
            params["lang"] = lang
        answer = self.http.post(
            "/api/chat/voice",
            params=params,
            content=data,
            headers={"X-Session": self.session, "Content-Type": kind},
        )
        if answer.status_code == 200:
            self._apply(answer.json())
        return answer

    def say(self, text: str) -> None:
        self.event({"kind": "text", "text": text}).raise_for_status()

    def press(self, data: str) -> None:
        self.event({"kind": "choice", "data": data}).raise_for_status()

    def tap(self, code: str) -> None:
        """Press the option ``code`` of the newest message offering it."""
        for message in reversed(self.messages):
            for option in message.get("options", []):
                if option["data"].rpartition(".")[2] == code and "." in option["data"]:
                    self.press(option["data"])
                    return
        raise AssertionError(f"no option {code!r} in {[m['text'][:60] for m in self.messages]}")

    def poll(self, after: int | None = None) -> dict:
        answer = self.http.get(
            "/api/chat/poll",
            params={"after": self.last if after is None else after},
            headers={"X-Session": self.session},
        )
        answer.raise_for_status()
        return answer.json()

    def text(self) -> str:
        return "\n".join(m["text"] for m in self.messages)

    def receipt_code(self) -> str | None:
        found = CODE.search(self.text())
        return found.group(0) if found else None


def survivor_report(person, *, chat: bool = False, account: str = "CANARY-WEB account") -> None:
    """From the safety question to the summary, as in tests/e2e/test_telegram.py."""
    to_the_account(person, chat=chat)
    person.say(account)
    person.tap("done")
    person.tap("done")  # no attachments


def to_the_account(person, *, chat: bool = False) -> None:
    """From the safety question to the step that takes the account (text or voice)."""
    for code in ("safe", "me", "phys", "psy", "done", "partner", "72h", *DANGER_SKIPPED):
        person.tap(code)
    person.say("buon ma thuot")
    for code in ("c0", "a26", "f", "n", "ede", "n", "med", "done", "y", "health", "done", "y"):
        person.tap(code)
    if chat:
        person.tap("chat")
    else:
        person.tap("phone")
        person.say("0912 345 678")
        person.tap("eve")
