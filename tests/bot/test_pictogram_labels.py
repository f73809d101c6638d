"""The same pictogram for a choice on every channel (dialogs.pictograms): an emoji before the
words on Telegram's buttons and Zalo's numbered choices, the SVG's id on the web."""

from __future__ import annotations

from datetime import UTC, datetime

import dialogs
from bot.telegram.render import TelegramRenderer
from bot.web.render import WebRenderer
from bot.zalo.render import ZaloRenderer
from dialogs import actions as A
from dialogs import events as E
from dialogs import pictograms
from dialogs.i18n import translator

VI = translator("vi")


def _menu():
    """The engine's answer to "Có, tôi nói chuyện được" on the first screen."""
    st, actions, _ = dialogs.handle(None, E.Command(name="start", arg="vi"), datetime.now(UTC))
    safe = next(o.data for o in actions[-1].options if o.data.endswith(".safe"))
    _st, actions, _ = dialogs.handle(st, E.Choice(data=safe), datetime.now(UTC))
    return next(a for a in actions if getattr(a, "options", None))


def test_each_channel_shows_the_choices_picture():
    send = _menu()
    me = VI.gettext("menu.me")
    (tg,) = TelegramRenderer().render(send, 1, incoming=[], lang="vi")
    labels = [b["text"] for row in tg.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "🙋 " + me in labels
    assert VI.gettext("opt.exit") in labels  # already starts with its own sign: not twice
    zalo = ZaloRenderer().render(send, "u", incoming=[], lang="vi")
    assert "🙋 " + me in "\n".join(c.params["text"] for c in zalo)
    (web,) = WebRenderer().render(send, "s", incoming=[], lang="vi")
    mine = next(o for o in web.params["options"] if o["label"] == me)
    assert mine["pictogram"] == "myself"  # the web draws it; its label stays words only


def test_a_focal_points_or_agencys_buttons_get_no_picture():
    """An agency's "Khám chữa bệnh" (a service it gave) has a survivor's need's words: the
    pictograms are the survivor's conversation's, not the focal side's."""
    service = A.Option("fp:ag:r1:sv.medical", VI.gettext("need.medical"))
    assert pictograms.for_option(service, "vi") is None
    (tg,) = TelegramRenderer().render(A.Send("?", (service,)), 1, incoming=[], lang="vi")
    assert tg.params["reply_markup"]["inline_keyboard"][0][0]["text"] == service.label
    need = A.Option("1f.med", "▫️ " + VI.gettext("need.medical"))
    assert pictograms.for_option(need, "vi") == "health"
