"""Honest language choice on the web chat API (issue 21): Ê Đê is offered as a helper who
speaks it; choosing it keeps the chat in Vietnamese with the same one-line notice."""

from __future__ import annotations

from dialogs.i18n import translator

VI = translator("vi")
NOTE = VI.gettext("lang.helper_note", language="Ê Đê")


def test_ede_from_the_start_gives_the_notice_in_vietnamese(live, person):
    someone = person("rad")
    first = someone.text()
    assert NOTE in first and "\n" not in NOTE  # one line
    assert VI.gettext("ch.web.intro") in first  # the chat itself in Vietnamese
    someone.tap("safe")
    assert VI.gettext("menu.q") in someone.text()


def test_ede_chosen_later_keeps_the_answers_and_gives_the_notice(live, person):
    someone = person("vi")
    someone.tap("safe")
    someone.tap("me")
    someone.event({"kind": "command", "name": "language"}).raise_for_status()
    someone.tap("l_rad")
    back = someone.messages[-1]["text"]  # back on the question she was at, with the notice
    assert back.startswith(NOTE) and VI.gettext("sv.what") in back
    someone.tap("phys")  # the flow goes on from there, in Vietnamese
    someone.tap("done")
    assert VI.gettext("sv.what") not in someone.messages[-1]["text"]
