"""Labels of the web pages (the survivor chat at ``/`` and the focal point inbox at
``/focal``), as message ids for the gettext catalogs. The conversation's own texts come
from the engine; these are only the page's frame: buttons, hints, errors.

Neutral wording: the page may be open on a shared phone; the tab title says "Chat".
"""

from __future__ import annotations

from dialogs.i18n import N_

# --- survivor chat --------------------------------------------------------------------------
CHAT = {
    "title": N_("web.title"),
    "exit": N_("web.exit"),
    "exit_hint": N_("web.exit_hint"),
    "emergency": N_("web.emergency"),
    "input": N_("web.input"),
    "send": N_("web.send"),
    "location": N_("web.location"),
    "location_wait": N_("web.location_wait"),
    "location_failed": N_("web.location_failed"),
    "offline": N_("web.offline"),
    "busy": N_("web.busy"),
    "noscript": N_("web.noscript"),
    "you": N_("web.you"),
    # voice messages (the microphone button shows only where the browser can record)
    "voice": N_("web.voice"),
    "voice_stop": N_("web.voice_stop"),
    "voice_recording": N_("web.voice_recording"),
    "voice_sending": N_("web.voice_sending"),
    "voice_sent": N_("web.voice_sent"),
    "voice_denied": N_("web.voice_denied"),
    "voice_short": N_("web.voice_short"),
    "voice_too_long": N_("web.voice_too_long"),
    "voice_bad": N_("web.voice_bad"),
}

# --- the neutral page a quick exit lands on --------------------------------------------------
NEUTRAL = {
    "title": N_("web.neutral.title"),
    "body": N_("web.neutral.body"),
}

# --- focal point inbox -----------------------------------------------------------------------
FOCAL = {
    "title": N_("webf.title"),
    "signin": N_("webf.signin"),
    "code": N_("webf.code"),
    "code_hint": N_("webf.code_hint"),
    "bad_code": N_("webf.bad_code"),
    "too_many": N_("webf.too_many"),
    "expired": N_("webf.expired"),
    "signout": N_("webf.signout"),
    "inbox": N_("webf.inbox"),
    "empty": N_("webf.empty"),
    "case": N_("webf.case"),
    "urgency": N_("webf.urgency"),
    "category": N_("webf.category"),
    "commune": N_("webf.commune"),
    "needs": N_("webf.needs"),
    "shelter": N_("webf.shelter"),
    "status": N_("webf.status"),
    "content": N_("webf.content"),
    "messages": N_("webf.messages"),
    "acknowledge": N_("webf.acknowledge"),
    "reply": N_("webf.reply"),
    "ask": N_("webf.ask"),
    "text": N_("webf.text"),
    "transfer": N_("webf.transfer"),
    "transfer_to": N_("webf.transfer_to"),
    "close": N_("webf.close"),
    "services": N_("webf.services"),
    "outcome": N_("webf.outcome"),
    "done": N_("webf.done"),
    "refused": N_("webf.refused"),
    "back": N_("webf.back"),
    "recordings": N_("webf.recordings"),
    "no_audio": N_("webf.no_audio"),
    "closed_cases": N_("webf.closed_cases"),
    "readonly": N_("webf.readonly"),
    "find": N_("webf.find"),
    "find_ref": N_("webf.find_ref"),
    "pick_reason": N_("webf.pick_reason"),
    "confirm_close": N_("webf.confirm_close"),
    "need_reason": N_("webf.need_reason"),
    "updated": N_("webf.updated"),
    "reload": N_("webf.reload"),
    "province": N_("webf.province"),
    "province_hint": N_("webf.province_hint"),
    "age": N_("webf.age"),
    "age_hours": N_("webf.age_hours"),
    "age_days": N_("webf.age_days"),
    "rung": N_("webf.rung"),
    "rung_h": N_("webf.rung_h"),
    "holder": N_("webf.holder"),
    "nobody": N_("webf.nobody"),
    "overdue": N_("webf.overdue"),
    "late_h": N_("webf.late_h"),
    "act_h": N_("webf.act_h"),
    "take_over": N_("webf.take_over"),
    "give_to": N_("webf.give_to"),
    "give": N_("webf.give"),
    "note": N_("webf.note"),
    "note_add": N_("webf.note_add"),
    "note_hint": N_("webf.note_hint"),
    "reopen": N_("webf.reopen"),
    "tasks": N_("webf.tasks"),
    "task": N_("webf.task"),
    "task_add": N_("webf.task_add"),
    "task_due": N_("webf.task_due"),
    "task_hint": N_("webf.task_hint"),
    "task_done": N_("webf.task_done"),
    "task_finish": N_("webf.task_finish"),
    "task_bad": N_("webf.task_bad"),
}
