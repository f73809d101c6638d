"""The promise register (DESIGN §5, issue 18): every promise the hotline's texts make to a
survivor, a witness or a focal point, with the text ids that make it and the end-to-end tests
that prove it through a channel's real interface (the fake Bot API, the fake Zalo OA API, or
the web chat API / browser).

Rules, checked by ``tests/test_promises.py``:
- every text id here exists in the Vietnamese and English catalogs;
- every test here exists, and each promise's text ids are named in the test file(s) that
  prove it (so a test asserts the words as well as the behaviour);
- every catalog text that reads like a promise (``sẽ``, ``xoá``, ``được xem``, ``chuyển
  tới``…) is either registered here or listed in that test's allow-list with the reason it
  promises nothing.

A text whose promise cannot be kept is rewritten to say only what the system does; it never
stays with a weaker test. Pure data: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Who = Literal["survivor", "witness", "reporter", "focal"]  # reporter: survivor or witness


@dataclass(frozen=True, slots=True)
class Promise:
    """One promise: who is told it, what it says, the texts that say it, the tests that keep it.

    ``tests`` are pytest node ids (``tests/e2e/test_x.py::test_y``), without parameters."""

    id: str
    who: Who
    says: str
    text_ids: tuple[str, ...]
    tests: tuple[str, ...]


_TG = "tests/e2e/test_telegram.py::"
_ZL = "tests/e2e/test_zalo.py::"
_KI = "tests/e2e/test_kept_informed.py::"
_EP = "tests/e2e/test_escalation_promises.py::"
_IN = "tests/e2e/test_intake_place_and_after.py::"
_SP = "tests/e2e/test_survivor_promises.py::"
_FO = "tests/e2e/test_focal.py::"
_WEB = "tests/web/"

PROMISES: tuple[Promise, ...] = (
    Promise(
        "web_history_tip",
        "reporter",
        "On first load the web chat shows a one-line, dismissible tip: open the page in a private "
        "tab, and how to clear the history in Android's Chrome and in Zalo's own browser.",
        ("web.tip", "web.tip_android", "web.tip_zalo"),
        (_WEB + "test_phone.py::test_a_dismissible_safety_tip_on_first_load",),
    ),
    # -- language ----------------------------------------------------------------------------
    Promise(
        "helper_speaks_her_language",
        "reporter",
        "Choosing a language not offered in full keeps the chat in Vietnamese and says so in one "
        "line; if the commune has an on-duty support person who speaks it, the report goes to "
        "that person, over one who does not.",
        ("lang.helper_note", "lang.helper"),
        (
            "tests/e2e/test_languages.py::test_ede_keeps_vietnamese_with_a_notice_and_reaches_an_ede_speaker",
            _WEB + "test_languages.py::test_ede_from_the_start_gives_the_notice_in_vietnamese",
        ),
    ),
    # -- before sending: who will see it -----------------------------------------------------
    Promise(
        "who_sees",
        "reporter",
        "Before sending she is told who will see the report: the commune's support person, then "
        "backups, commune leadership and the province desk; the police only if she ticks them; "
        "no one else. Only the organisations she picks receive it, at every rung.",
        ("who.sees", "sv.orgs", "start.more"),
        (
            _EP + "test_the_story_climbs_only_to_organisations_she_agreed_to",
            _EP + "test_an_urgent_witness_report_without_police_consent_does_not_reach_the_police",
            "tests/e2e/test_escalation_zalo.py::test_no_rung_shows_the_police_a_story_she_did_not_agree_to",
        ),
    ),
    Promise(
        "phone_only_for_this",
        "reporter",
        "The phone number she gives is used only to contact her about this report: sealed, "
        "never in the database in plaintext or in logs.",
        ("ask.phone",),
        (_TG + "test_survivor_reports_from_start_to_receipt",),
    ),
    Promise(
        "counted_only_with_consent",
        "survivor",
        "Her ethnic group and whether she moved from another province are kept only if she "
        "agrees to be counted, only as codes (never the words she typed), and the people who "
        "help her do not see them.",
        ("eth.why", "sv.mig"),
        (
            "tests/e2e/test_counted_attributes.py::test_counted_attributes_are_kept_as_codes_only_with_consent",
            "tests/e2e/test_counted_attributes.py::test_without_consent_nothing_of_them_is_kept",
        ),
    ),
    # -- danger --------------------------------------------------------------------------------
    Promise(
        "danger_numbers_first",
        "reporter",
        "In danger, the emergency numbers 113 / 115 / 111 come in the very next message.",
        ("dg.numbers",),
        (_TG + "test_danger_gives_the_emergency_numbers_in_the_very_next_message",),
    ),
    Promise(
        "urgent_alert",
        "survivor",
        "The urgent alert goes at once, in parallel, to the province desk and, where her "
        "commune is known, to its support person and its police desk (pressing the alert is "
        "her consent to the police); no police where the commune has none in the directory. "
        "Answered in words that mean no button, twice, it still goes, with her words, to all "
        "but the police.",
        ("dg.who",),
        (
            _EP + "test_the_urgent_alert_reaches_the_commune_and_the_police_at_once",
            _EP + "test_the_urgent_alert_promises_the_police_only_where_they_take_alerts",
            _EP + "test_an_urgent_alert_answered_in_words_reaches_the_commune_not_the_police",
            "tests/e2e/test_escalation_zalo.py::test_the_urgent_alert_reaches_the_police_desk_on_zalo",
        ),
    ),
    Promise(
        "sos_sends_an_alert",
        "reporter",
        "The 🆘 button, offered on every screen and named when it is happening now, gives the "
        "emergency numbers and can send the urgent alert to a support person.",
        ("note.now", "sos.text", "sos.alert"),
        (_SP + "test_the_sos_button_sends_an_urgent_alert",),
    ),
    Promise(
        "alert_without_place",
        "reporter",
        "Without a known commune, an alert goes at once, and a report is referred, to the "
        "province desk, and she is told so.",
        ("rc.desk_alert", "rc.desk_report"),
        (
            _IN + "test_an_alert_with_the_place_skipped_goes_to_the_province_desk_at_once",
            _IN + "test_a_report_with_the_place_skipped_is_referred_to_the_province_desk",
            "tests/e2e/test_intake_zalo.py::test_an_alert_with_the_place_skipped_reaches_the_desk_on_zalo",
            _WEB
            + "test_intake_place_and_after.py::test_an_alert_with_the_place_skipped_goes_to_the_province_desk",
        ),
    ),
    Promise(
        "witness_urgent",
        "witness",
        "A witness who says someone is in danger now gets the emergency numbers and the "
        "report is marked urgent.",
        ("note.numbers",),
        (_TG + "test_witness_reports_a_child_in_danger",),
    ),
    # -- the receipt -----------------------------------------------------------------------------
    Promise(
        "receipt_once_then_deleted",
        "reporter",
        'The receipt code is shown once; after "I have saved it" the message holding it is '
        "deleted (Telegram); the code is the only way back, from any account.",
        ("rc.warn", "sending.text", "rc.show", "rc.deleted"),
        (
            _TG + "test_survivor_reports_from_start_to_receipt",
            _TG + "test_follow_up_from_another_account_with_the_receipt",
        ),
    ),
    Promise(
        "receipt_zalo_honest",
        "reporter",
        "On Zalo the bot cannot delete the receipt: it says so and asks her to delete it.",
        ("ch.zalo.rc_hint", "ch.zalo.rc_done"),
        (_ZL + "test_survivor_reports_with_typed_numbers_only",),
    ),
    # -- quick exit and deletion -------------------------------------------------------------
    Promise(
        "quick_exit_telegram",
        "reporter",
        "Quick exit (button or /exit) deletes the messages of the chat the bot can still delete "
        'and leaves one neutral line, from any screen, the "not now" screen included.',
        ("start.more", "help.text", "later.text", "info.digital"),
        (
            _TG + "test_quick_exit_removes_every_tracked_message",
            _SP + "test_not_now_then_quick_exit_deletes_the_chat",
        ),
    ),
    Promise(
        "quick_exit_zalo",
        "reporter",
        "On Zalo the bot deletes nothing and says so from the first message: quick exit shows "
        "how to delete the chat oneself; no delete is ever attempted.",
        (
            "ch.zalo.intro",
            "ch.zalo.more",
            "ch.zalo.exit",
            "ch.zalo.help",
            "ch.zalo.later",
            "ch.zalo.digital",
            "ch.zalo.del_q",
        ),
        (
            _ZL + "test_quick_exit_says_honestly_what_zalo_cannot_delete",
            _SP + "test_zalo_says_it_cannot_delete_wherever_deletion_is_mentioned",
        ),
    ),
    Promise(
        "quick_exit_web",
        "reporter",
        "On the web chat quick exit purges the session and leaves nothing readable in the tab.",
        ("ch.web.more", "ch.web.digital", "web.exit_hint"),
        (
            _WEB + "test_api.py::test_quick_exit_purges_the_session",
            _WEB + "test_browser.py::test_quick_exit_leaves_nothing_readable_in_the_tab",
        ),
    ),
    Promise(
        "delete_draft",
        "reporter",
        '/delete ("delete my draft") shreds every unsent answer and deletes the chat\'s '
        'messages; "start again" deletes the answers; nothing is sent.',
        ("del.q", "resume.new"),
        (
            _SP + "test_delete_draft_shreds_the_answers_and_the_messages",
            _SP + "test_resume_new_deletes_the_answers",
        ),
    ),
    Promise(
        "not_needed_not_kept",
        "reporter",
        "A location or phone number sent where it is not asked for is not kept; a message too "
        "long, or an account already full, is refused and what was sent so far is kept; a "
        "location with no commune near is kept.",
        ("bad.location", "bad.contact", "bad.too_long", "acc.full", "place.none_near"),
        (
            _SP + "test_what_a_step_does_not_need_is_not_kept",
            _SP + "test_a_full_account_keeps_what_was_sent",
            _SP + "test_a_location_with_no_commune_near_is_kept",
        ),
    ),
    # -- after sending: follow-up with the code ----------------------------------------------
    Promise(
        "withdraw_deletes",
        "reporter",
        "Withdrawing a report stops all support and deletes it from the hotline at once (case, "
        "its key, its messages); the support person can no longer act on it. Copies in backups "
        "are deleted within bot.backup.KEEP_DAYS (30) days: every backup deletes older ones.",
        ("fu.wd_q", "fu.deleted"),
        (_SP + "test_withdrawal_deletes_the_report_for_good",),
    ),
    Promise(
        "stop_contact",
        "reporter",
        '"Don\'t message me again": no message and no update reaches her chat afterwards; '
        "the support person is told she is not reachable; she still reads replies with her code.",
        ("fu.stop_q", "fu.stopped", "focal.not_reachable"),
        (_SP + "test_stop_contact_means_no_message_reaches_her",),
    ),
    Promise(
        "information_added",
        "reporter",
        "Information added with the receipt code is added to the report.",
        ("fu.added",),
        (_TG + "test_follow_up_from_another_account_with_the_receipt",),
    ),
    # -- kept informed (contact through the chat) ----------------------------------------------
    Promise(
        "told_taken_up",
        "reporter",
        "She is told, in her language, when the support person takes the report up.",
        ("push.status", "status.acknowledged"),
        (_KI + "test_she_is_told_in_her_language_when_her_report_is_taken_up",),
    ),
    Promise(
        "told_passed_on",
        "reporter",
        "She is told once (not at every rung) that it was passed on because no one answered in "
        "time, with the emergency numbers again.",
        ("push.climbed",),
        (_KI + "test_she_is_told_once_that_it_was_passed_on_not_at_every_rung",),
    ),
    Promise(
        "told_after_hours",
        "reporter",
        "Sent outside the commune's office hours, she is told it went straight to the province "
        "desk, on duty now or from when it will be.",
        ("push.after_hours.now", "push.after_hours.later", "who.province_desk"),
        (
            _KI + "test_after_hours_she_is_told_who_has_it_and_when",
            _KI + "test_after_hours_with_the_desk_closed_too_she_is_told_when_it_opens",
        ),
    ),
    Promise(
        "told_closed",
        "reporter",
        "She is told when the report is closed; her code, typed in the chat, reaches the support "
        "person again (the case reopens to its holder).",
        ("push.closed",),
        (
            _KI + "test_she_is_told_when_her_report_is_closed",
            _KI + "test_the_tie_ends_when_the_case_closes",
            _IN + "test_a_message_after_closing_reopens_the_case_to_its_holder",
        ),
    ),
    Promise(
        "reply_in_place",
        "reporter",
        "A support person's reply reaches her chat; a plain message after it goes to the support "
        "person; after a week of silence or once closed she is told to type her code first.",
        ("push.reply", "fu.relayed", "tie.gone"),
        (
            _KI + "test_a_plain_message_after_a_relayed_one_reaches_the_focal_point",
            _KI + "test_the_tie_ends_when_the_case_closes",
            "tests/e2e/test_zalo_kept_informed.py::test_on_zalo_she_is_told_and_answers_in_place",
            _WEB
            + "test_reply_in_place.py::test_a_plain_message_after_a_reply_reaches_the_web_inbox",
        ),
    ),
    Promise(
        "unheld_said_honestly",
        "reporter",
        "A message for the support person on a case no one holds is not passed on, is not kept, "
        "and she is told so.",
        ("fu.unheld",),
        (
            _IN + "test_a_message_for_the_support_person_on_a_case_no_one_holds_is_refused",
            _IN + "test_a_message_after_closing_with_the_holder_gone_is_refused_honestly",
        ),
    ),
    Promise(
        "nothing_after_quick_exit",
        "reporter",
        "Nothing (news, replies) reaches a chat she left with quick exit.",
        ("exit.neutral",),
        (_KI + "test_nothing_reaches_a_chat_left_with_quick_exit",),
    ),
    # -- focal points ----------------------------------------------------------------------------
    Promise(
        "focal_bound",
        "focal",
        "Once bound with an invite code, new reports for this focal point arrive in this chat.",
        ("focal.bound",),
        (
            _FO + "test_referral_ack_relay_close_without_identities",
            _ZL + "test_a_focal_point_on_zalo_binds_and_gets_the_card",
        ),
    ),
    Promise(
        "shelter_manager_occupancy",
        "focal",  # a shelter manager binds and is told as a focal point is
        "A shelter manager's bound chat sets its shelter's occupancy from a number it sends "
        "(0 to capacity; anything else is answered with how to), what matching then reads.",
        ("shelter.bound", "shelter.help", "shelter.occupancy_set"),
        (
            "tests/e2e/test_shelter_managers.py::test_a_manager_binds_and_sets_occupancy_from_chat",
            "tests/e2e/test_shelter_managers.py::"
            "test_a_manager_on_zalo_sets_occupancy_by_typing_a_number",
        ),
    ),
    Promise(
        "focal_web_code",
        "focal",
        "`/web` in the bound chat sends a one-time web sign-in code that works once, only on "
        "the web, and only within its minutes.",
        ("focal.bound", "focal.web_code"),
        (
            "tests/e2e/test_focal_web_code.py::"
            "test_web_in_the_bound_telegram_chat_sends_a_code_that_signs_in_once",
            "tests/e2e/test_focal_web_code.py::test_a_web_code_binds_no_other_chat",
            "tests/e2e/test_focal_web_code.py::test_a_web_code_dies_after_its_time",
            "tests/e2e/test_focal_web_code.py::test_web_in_a_bound_zalo_chat_sends_a_code",
        ),
    ),
    Promise(
        "focal_closed_until_deleted",
        "focal",
        "A closed case stays in the web inbox, read-only, and is deleted for good when its "
        "keeping time ends.",
        ("webf.readonly",),
        (
            _WEB + "test_focal_inbox.py::"
            "test_a_closed_case_stays_findable_read_only_until_retention_deletes_it",
        ),
    ),
    Promise(
        "focal_note_internal",
        "focal",
        "An internal note stays with the hotline's support people: the reporter never sees it.",
        ("webf.note_hint",),
        (
            _WEB + "test_focal_inbox.py::"
            "test_an_internal_note_is_kept_on_the_case_and_never_reaches_the_reporter",
        ),
    ),
    Promise(
        "focal_task_reminder",
        "focal",
        "A follow-up set in the inbox is reminded once, when due, in the bound chat.",
        ("webf.task_hint", "focal.task_due"),
        ("tests/e2e/test_case_tasks.py::test_a_follow_up_is_reminded_once_in_the_chat_when_due",),
    ),
    Promise(
        "focal_agency_answers",
        "focal",
        "A case referred to an agency the reporter agreed to reaches that agency's chat with "
        "only what she allowed, and the focal point is told each answer.",
        ("webf.agency_hint", "focal.agency.sent", "agency.declined"),
        (
            "tests/e2e/test_agencies.py::"
            "test_health_accepts_and_serves_legal_aid_declines_and_the_focal_point_is_told",
            "tests/e2e/test_agencies.py::"
            "test_an_agency_she_did_not_agree_to_cannot_be_forced_and_buttons_are_per_agency",
        ),
    ),
    Promise(
        "focal_case_plan",
        "focal",
        "A risk check's 'yes' to a weapon, a threat to kill, fear of being killed or "
        "strangulation (or to both last questions) makes the case's urgency High, as the "
        "inbox says; the safety plan is kept sealed like notes and shown only to the "
        "hotline's people who may act on the case.",
        ("webf.risk_hint", "webf.plan_hint", "focal.risk.screened_in"),
        (
            "tests/web/test_case_plan.py::"
            "test_a_risk_check_raises_urgency_and_the_safety_plan_is_kept_sealed",
            "tests/web/test_case_plan.py::"
            "test_answers_that_do_not_screen_in_lower_nothing_and_others_are_refused",
        ),
    ),
    Promise(
        "focal_pseudonymous",
        "focal",
        'The reporter sees a reply as from "the support person", never the focal point\'s name; '
        "the focal point is told when it was sent.",
        ("focal.reply.prompt", "focal.relayed"),
        (_FO + "test_referral_ack_relay_close_without_identities",),
    ),
    Promise(
        "focal_ack_stops_escalation",
        "focal",
        "Acknowledging stops the climb and the reminders.",
        ("focal.acked",),
        ("tests/e2e/test_escalation_chain.py::test_unacknowledged_report_climbs_to_the_backup",),
    ),
    Promise(
        "focal_card_reason",
        "focal",
        "A card says truly why it came: climbed because no one acknowledged in time, or sent "
        "straight because no one before was on duty.",
        ("focal.card.escalated", "focal.card.off_duty"),
        (
            _EP + "test_a_card_routed_past_closed_offices_says_so",
            "tests/e2e/test_escalation_chain.py::test_unacknowledged_report_climbs_to_the_backup",
        ),
    ),
    Promise(
        "focal_transfer",
        "focal",
        "Transferring sends the case, card and all, to the commune typed (or its on-duty rung), "
        "and the first holder may no longer act on it.",
        ("focal.transfer.prompt", "focal.transferred"),
        (_SP + "test_a_focal_point_transfers_a_case",),
    ),
    Promise(
        "focal_reopened",
        "focal",
        "A closed case the reporter writes to again is reopened to its holder, who is told.",
        ("focal.reopened",),
        (_IN + "test_a_message_after_closing_reopens_the_case_to_its_holder",),
    ),
    Promise(
        "focal_retention",
        "focal",
        "A closed case is deleted at the time the focal point is warned of, once, 72 hours "
        "before; copies in backups within bot.backup.KEEP_DAYS (30) days after.",
        ("focal.retention",),
        ("tests/e2e/test_retention.py::test_closed_case_warned_then_deleted_and_shredded",),
    ),
    Promise(
        "focal_forbidden_audited",
        "focal",
        "Acting on another commune's case is refused and the attempt is recorded.",
        ("focal.forbidden",),
        (_FO + "test_a_focal_point_of_another_commune_is_refused_and_audited",),
    ),
    Promise(
        "directory_invite_once",
        "focal",
        "An invite code the province desk issues on its directory page is shown once; sent "
        "to the bot as /focal CODE within its days, it binds that chat to the person.",
        ("webd.invite_once",),
        (
            "tests/e2e/test_directory_web.py::"
            "test_a_focal_point_added_on_the_web_is_invited_bound_and_routed_to",
            _WEB + "test_directory_web.py::test_the_desk_adds_a_person_and_invites_it",
        ),
    ),
)


def text_ids() -> frozenset[str]:
    """Every text id the register covers."""
    return frozenset(t for p in PROMISES for t in p.text_ids)
