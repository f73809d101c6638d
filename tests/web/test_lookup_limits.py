"""Issue 23 finding 4: one address cannot lock every survivor out of her case.

Receipt lookups are limited per web session (as per chat) and per address, with no
overall cap one client could use up; refused lookups are counted per window, not audited
one row each. Through uvicorn with a trusted proxy, so each client has its own address."""

from __future__ import annotations

import secrets

import pytest
from sqlmodel import select

from bot.service import LOOKUPS_PER_ADDRESS, LOOKUPS_PER_CHAT
from dialogs.i18n import translator
from storage.db import transaction
from storage.models import AuditEvent, RefusalCount
from tests.web.driver import WebPerson, survivor_report
from tests.web.server import LiveServer

VI = translator("vi")
ATTACKER, SURVIVOR = "198.51.100.9", "203.0.113.7"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("lookups"), trusted_proxies="127.0.0.1") as live:
        yield live


def _from(live: LiveServer, address: str) -> WebPerson:
    person = WebPerson(live.url, "vi")
    person.http.headers["X-Forwarded-For"] = address
    person.start()
    return person


def _look_up(person: WebPerson, code: str) -> str:
    """The note the person is shown after typing ``code`` at the receipt prompt."""
    person.say(code)
    return person.messages[-1]["text"]


def _wrong_code() -> str:
    digits = "".join(secrets.choice("0123456789") for _ in range(16))
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


def test_24_sessions_of_wrong_codes_from_one_address_lock_out_no_one_else(proxied):
    survivor = _from(proxied, SURVIVOR)
    survivor_report(survivor)
    survivor.tap("send")
    receipt = survivor.receipt_code()
    assert receipt

    answers = []
    for _ in range(24):
        attacker = _from(proxied, ATTACKER)
        attacker.tap("safe")
        attacker.tap("code")
        answers += [_look_up(attacker, _wrong_code()) for _ in range(LOOKUPS_PER_CHAT)]
        attacker.close()
    not_found = sum(VI.gettext("fu.not_found") in a for a in answers)
    limited = sum(VI.gettext("fu.rate_limited") in a for a in answers)
    assert (not_found, limited) == (LOOKUPS_PER_ADDRESS, 24 * LOOKUPS_PER_CHAT - not_found)

    later = _from(proxied, SURVIVOR)  # her own phone, another network: the right code works
    later.tap("safe")
    later.tap("code")
    found = _look_up(later, receipt)
    assert VI.gettext("fu.rate_limited") not in found and VI.gettext("fu.not_found") not in found

    # One session still has its own small allowance, whatever the address.
    same_address = _from(proxied, SURVIVOR)
    same_address.tap("safe")
    same_address.tap("code")
    tries = [_look_up(same_address, _wrong_code()) for _ in range(LOOKUPS_PER_CHAT + 1)]
    assert VI.gettext("fu.rate_limited") in tries[-1]
    assert all(VI.gettext("fu.not_found") in t for t in tries[:-1])

    async def read():
        async with transaction(proxied.runtime.store.sessions) as session:
            events = (await session.exec(select(AuditEvent))).all()
            counts = (await session.exec(select(RefusalCount))).all()
            return [e.action for e in events], {(c.action, c.window_start): c.count for c in counts}

    actions, counts = proxied.run(read())
    refused = 24 * LOOKUPS_PER_CHAT + LOOKUPS_PER_CHAT + 1
    assert sum(counts.values()) == refused  # every refusal counted ...
    receipt_events = [a for a in actions if a.startswith("receipt.")]
    assert len(receipt_events) == len(counts) <= 4  # ... one audit event per kind and window
