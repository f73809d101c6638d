"""The card's facts (pure: dialogs/focal_texts.py), one builder for chat and web."""

from __future__ import annotations

from dialogs import focal_texts as T
from dialogs.i18n import translator


def vi(msgid: str, **values: object) -> str:
    return translator("vi").gettext(msgid, **values)


def text(facts: T.CardFacts) -> str:
    return T.referral_card(
        "vi",
        referral_id="r1",
        case_ref="LT-TEST01",
        facts=facts,
        shelter=None,
        account=None,
        phone=None,
    ).text


def test_every_category_is_listed_including_trafficking_online_and_workplace():
    card = text(
        T.CardFacts(types=("trafficking", "online_violence", "workplace_sexual_harassment"))
    )
    for msgid in ("type.trafficking", "type.online_violence", "type.workplace_harassment"):
        assert vi(msgid) in card
    assert vi("focal.card.category", category="—") not in card


def test_a_case_stored_without_types_falls_back_to_its_category():
    card = text(T.CardFacts(category="physical_assault"))
    assert vi("focal.card.category", category=vi("type.physical_assault")) in card


def test_a_location_shows_coordinates_a_plain_map_link_and_the_nearest_commune():
    card = text(T.CardFacts(location=(12.812, 108.456), nearest="Xã Ea Kar, Đắk Lắk"))
    assert "12.81200, 108.45600" in card
    assert (
        "https://www.openstreetmap.org/?mlat=12.81200&mlon=108.45600#map=17/12.81200/108.45600"
        in card
    )
    assert vi("focal.card.nearest", commune="Xã Ea Kar, Đắk Lắk") in card
    assert vi("focal.card.commune", commune="—") not in card
    # a confirmed commune is named as such; no "nearest" guess beside it
    card = text(T.CardFacts(commune="Phường Buôn Ma Thuột", location=(12.7, 108.0), nearest="X"))
    assert vi("focal.card.commune", commune="Phường Buôn Ma Thuột") in card
    assert vi("focal.card.nearest", commune="X") not in card


def test_content_only_with_consent_to_be_referred():
    assert T.shows_content(True) and not T.shows_content(False)


def test_the_victim_knows_line_only_when_a_witness_was_asked():
    assert vi("focal.card.victim_knows", knows=vi("opt.no")) in text(
        T.CardFacts(reporter="witness", victim_knows="no")
    )
    danger_witness = text(T.CardFacts(reporter="witness"))  # the alert asks no such question
    assert vi("focal.card.victim_knows", knows=vi("opt.unsure")) not in danger_witness


def test_the_urgency_says_why_and_a_normal_one_says_nothing_more():
    card = text(T.CardFacts(urgency="high", reasons=("weapon", "pregnant", "made-up")))
    why = "; ".join((vi("sign.weapon"), vi("sign.pregnant")))
    assert vi("focal.card.urgency_why", urgency=vi("focal.urgency.high"), reasons=why) in card
    assert vi("focal.card.urgency", urgency=vi("focal.urgency.normal")) in text(T.CardFacts())


def test_contact_preference_and_safe_times():
    card = text(T.CardFacts(contact="phone", safe_times="evening"))
    safe = vi("focal.card.safe_times", times=vi("times.evening"))
    assert vi("focal.card.contact", contact=f"{vi('focal.card.contact_phone')} – {safe}") in card
    card = text(T.CardFacts(contact="none"))
    assert vi("focal.card.contact", contact=vi("focal.card.contact_none")) in card


def test_a_child_with_an_age_band():
    card = text(T.CardFacts(child=True, age_band="12-17"))
    assert vi("focal.card.child", age=f" ({vi('age.12_17')})") in card
