"""What a focal point's card says, over the fake Bot API (issue 17, findings 3, 6 and 7):
a shared location with a map link and the nearest commune, every category chosen, witness
or survivor, a child, whether the victim knows, how to make contact, who did it, when, and
why the urgency is what it is."""

from __future__ import annotations

from sqlmodel import select

from dialogs import focal_texts
from dialogs.i18n import translator
from routing.matching import match_focal_point
from storage.db import transaction
from storage.models import Case
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import BMT, OFFICE_HOURS, bind, runtime  # noqa: F401 - the fixture

SURVIVOR = 738_000_710_001
FOCAL = 738_000_710_900
EA_KAR = (12.8120, 108.4560)  # next to the Ea Kar office


def vi(msgid: str, **values: object) -> str:
    return translator("vi").gettext(msgid, **values)


async def only_case(runtime) -> Case:  # noqa: F811 - the fixture's value
    async with transaction(runtime.store.sessions) as session:
        return (await session.exec(select(Case))).one()


async def test_an_alert_with_a_shared_location_shows_it_with_a_map_link_and_the_nearest_commune(
    runtime,  # noqa: F811
    fake_bot_api,
):
    """Finding 3: the desk's alert card read "Xã/phường: —" and showed no location."""
    expected = match_focal_point(
        runtime.directory, location=EA_KAR, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.tap("danger")
    person.share_location(*EA_KAR)
    await person.tap("me")
    await person.receipt_code()
    case = await only_case(runtime)
    assert case.commune_code is None and case.urgency == "immediate"

    card = await focal.wait_text(case.ref)
    assert "12.81200, 108.45600" in card.text
    assert focal_texts.map_link(*EA_KAR) in card.text
    assert "https://www.openstreetmap.org/?mlat=12.81200&mlon=108.45600" in card.text
    nearest = runtime.directory.suggest_communes(*EA_KAR, limit=1)[0]
    assert (
        vi("focal.card.nearest", commune=nearest.label)
        + " "
        + vi("focal.card.nearest_km", km=f"{nearest.distance_km:.1f}")
    ) in card.text
    assert vi("focal.card.commune", commune="—") not in card.text
    assert vi("focal.reason.danger_now") in card.text
    # No link preview: Telegram would fetch the map page for the place.
    sent = [
        call.params
        for call in fake_bot_api.calls()
        if call.chat_id == FOCAL and case.ref in str(call.params.get("text", ""))
    ]
    assert sent and all(p.get("link_preview_options") == {"is_disabled": True} for p in sent)


async def test_a_witness_report_card_keeps_every_fact(runtime, fake_bot_api):  # noqa: F811
    """Finding 7: trafficking and online harassment read "Loại bạo lực: —", a second category
    was dropped, and the card did not say witness, child, victim unaware, "do not call",
    or when."""
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.tap("safe")
    await person.tap("other")
    await person.tap("friend")  # relation: friend or neighbour
    await person.tap("n")  # the victim does not know of the report
    await person.tap("y")  # the victim is a child
    await person.tap("n")  # not in danger right now
    await person.tap("traff")
    await person.tap("online", same_screen=True)
    await person.tap("done", same_screen=True)
    person.say("buon ma thuot")
    await person.tap("c0")
    await person.tap("month")
    await person.tap("chat")  # messages through the chat, no phone call
    await person.tap("y")  # refer
    await person.tap("social")
    await person.tap("done", same_screen=True)
    await person.tap("n")
    person.say("CANARY-WITNESS Cháu bị dụ đi làm xa, xin đừng gọi điện.")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()
    case = await only_case(runtime)

    card = (await focal.wait_text(case.ref)).text
    assert vi("type.trafficking") in card and vi("type.online_violence") in card
    assert vi("focal.card.category", category="—") not in card
    witness = vi("focal.card.by_witness")
    relation = vi("focal.card.relation", relation=vi("rel.friend"))
    assert vi("focal.card.reporter", reporter=f"{witness} – {relation}") in card
    assert vi("focal.card.victim_knows", knows=vi("opt.no")) in card
    assert vi("focal.card.child", age="") in card
    assert vi("focal.card.when", when=vi("when.month")) in card
    assert vi("focal.card.contact", contact=vi("focal.card.contact_chat")) in card
    assert vi("focal.reason.child") in card  # why it is high


async def test_a_survivor_card_says_who_when_the_danger_signs_and_the_safe_times(
    runtime,  # noqa: F811
    fake_bot_api,
):
    """Findings 6 and 7: "bóp cổ tôi… không dám về nhà" was "Bình thường"; the card said
    neither who did it nor when."""
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("month")
    answers = {"sv.dq_strang": "y", "sv.dq_home": "y"}
    for step in ("sv.dq_strang", "sv.dq_weapon", "sv.dq_kill", "sv.dq_home"):
        await person.tap(answers.get(step, "n"))
    await person.tap("skip")  # getting worse: prefers not to say
    await person.tap("skip")  # pregnant: prefers not to say
    person.say("buon ma thuot")
    await person.tap("c0")
    for code in ("a26", "f", "n", "ede", "n"):
        await person.tap(code)
    await person.tap("done", same_screen=True)  # no needs ticked
    await person.tap("y")
    await person.tap("health")
    await person.tap("done", same_screen=True)
    await person.tap("n")
    await person.tap("phone")
    person.say("0912 345 678")
    await person.tap("eve")
    person.say("Anh ấy bóp cổ tôi… tôi không dám về nhà.")
    await person.tap("done")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()
    case = await only_case(runtime)
    assert case.urgency == "high"

    card = (await focal.wait_text(case.ref)).text
    why = "; ".join((vi("sign.strangulation"), vi("sign.afraid_to_go_home")))
    assert vi("focal.card.urgency_why", urgency=vi("focal.urgency.high"), reasons=why) in card
    assert vi("focal.card.perpetrator", who=vi("perp.partner")) in card
    assert vi("focal.card.when", when=vi("when.month")) in card
    assert vi("focal.card.reporter", reporter=vi("focal.card.by_survivor")) in card
    safe = vi("focal.card.safe_times", times=vi("times.evening"))
    assert vi("focal.card.contact", contact=f"{vi('focal.card.contact_phone')} – {safe}") in card
    assert vi("focal.card.age", age=vi("age.26_40")) in card
