"""Kept informed and reply in place on Zalo (issue 18, findings 3 and 4): a survivor who
chose contact in the chat hears that her report was taken up and closed, and answers the
focal point by simply writing; a focal point on Zalo too, typing numbers. Over the fake
Zalo Bot API."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from dialogs import focal_texts
from dialogs.i18n import translator
from dialogs.outbound import news_text
from routing.matching import match_focal_point
from storage.db import transaction
from storage.models import Case, Referral
from tests.e2e.test_focal import BMT, OFFICE_HOURS
from tests.e2e.test_kept_informed import survivor_messages
from tests.e2e.test_zalo import (  # noqa: F401
    USER,
    fake_zalo,
    load_daklak_directory,
    runtime,
    zalo_report_from_buon_ma_thuot,
)
from tests.e2e.zalo_driver import ZaloPerson, numbered

TR = translator("vi")


async def test_on_zalo_she_is_told_and_answers_in_place(runtime, fake_zalo):  # noqa: F811
    await load_daklak_directory(runtime)
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = ZaloPerson(fake_zalo, USER + "fp")
    invite = await runtime.casework.invite(expected.focal_point.id, now=datetime.now(UTC))
    focal.say(f"/focal {invite}")
    await focal.wait_text(expected.focal_point.id)

    survivor = ZaloPerson(fake_zalo, USER + "s")
    await zalo_report_from_buon_ma_thuot(survivor)  # contact through this chat
    runtime.hotline.clock = lambda: datetime.now(UTC)  # her clock and the desk's agree now
    async with transaction(runtime.store.sessions) as session:
        referral = (await session.exec(select(Referral))).one()
        case = await session.get(Case, referral.case_id)
    await focal.wait_text(case.ref)

    focal.say("1")  # acknowledge
    acked = await survivor.wait_text(news_text("vi", "acked"))
    # the screen she was on comes again after the news: the numbers she sees last are the
    # ones a typed number means
    way_on = await survivor.options_from(acked)
    assert TR.gettext("opt.exit") in [label for _n, label in numbered(way_on.text)]

    focal.say("2")  # reply
    await focal.wait_text(focal_texts.text("vi", "focal.reply.prompt", ref=case.ref))
    focal.say("Chào chị, em là cán bộ hỗ trợ ở phường.")
    await survivor.wait_text("Chào chị, em là cán bộ hỗ trợ ở phường.")
    survivor.say("CANARY-ZALO-IN-PLACE Em vẫn ổn, cảm ơn chị.")
    relayed = await focal.wait_text("CANARY-ZALO-IN-PLACE Em vẫn ổn, cảm ơn chị.")
    assert case.ref in relayed.text and USER not in relayed.text
    await survivor.wait_text(TR.gettext("fu.relayed"))
    assert not any(TR.gettext("bad.choose") in (m.text or "") for m in survivor.visible())

    focal.say("5")  # close
    question = await focal.wait_text(focal_texts.text("vi", "focal.close.q"))
    done = TR.gettext("focal.btn.close_done")
    focal.say(str(next(n for n, label in numbered(question.text) if done.endswith(label))))
    await focal.wait_text(focal_texts.text("vi", "focal.closed", ref=case.ref))
    closed = await survivor.wait_text(news_text("vi", "closed"))
    survivor.say("CANARY-ZALO-AFTER-CLOSE")
    await survivor.wait_text(TR.gettext("tie.gone"))
    # not on the case (a relay stores it there first): the tie ended with the case
    assert await survivor_messages(runtime, case) == ["CANARY-ZALO-IN-PLACE Em vẫn ổn, cảm ơn chị."]

    # quick exit by the number the newest message gives it, whatever screen she was on
    survivor.last_seq = closed.seq
    await survivor.choose("x")
    await survivor.wait_text(TR.gettext("ch.zalo.exit"))
