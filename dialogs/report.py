"""Build the report dict carried by ``SubmitReport`` from the draft state.

Shape (``schema`` 1)::

    {
      "schema": 1, "flow": "survivor"|"witness"|"danger", "reporter": "survivor"|"witness",
      "urgency": "immediate"|"high"|"normal",
      "urgency_reasons": [coded, dialogs.triage.REASONS: what raised the urgency],
      "danger_signs": [danger questions answered "yes": strangulation, weapon,
                       threat_to_kill, afraid_to_go_home, escalating, pregnant],
      "category": GBVIMS type (rape, sexual_assault, physical_assault, forced_marriage,
                  denial_of_resources, psychological_abuse) or "unknown",
      "types": [every type ticked, incl. online_violence, workplace_sexual_harassment,
                trafficking, consanguineous_marriage, school_violence],
      "context": [derived: intimate_partner, child, child_sexual_abuse, early_marriage,
                  child_or_forced_marriage, consanguineous_marriage, online, workplace,
                  trafficking, school, within_72h],
      "counted_contexts": [COUNTED_CONTEXTS in context, only when counted],
      "perpetrator": str|None, "when": "now"|"last_72h"|"this_month"|"earlier"|None,
      "age_band": "0-11"|"12-17"|"18-25"|"26-40"|"41-60"|"61+"|None,
      "sex": "female"|"male"|"other"|None, "disability": bool|None,
      "ethnic_code": GSO code "01".."54"|None, "migrant": bool|None (both only when
                     counted: consent.statistics),
      "place": {"commune_code"?, "commune_name"?, "province_name"?, "lat"?, "lon"?},
      "needs": [...],
      "consent": {"referral": {"value": bool, "at": ISO|None},
                  "organisations": {"value": [...], "at": ISO|None},
                  "statistics": {"value": bool, "at": ISO|None}},
      "contact": {"method": "chat"|"phone"|"none", "phone": str|None,
                  "safe_times": str|None, "status_updates": bool},
      "child_protection": bool (a child is affected: child-protection route, 111),
      "witness": None | {"relation", "victim_knows", "victim_is_child", "danger_now"},
      "language": str (the conversation's), "preferred_language": str (the language she
                  wants help in, dialogs.languages.preferred_language), "created_at": ISO,
      "free_text": {"account": [str, ...], "media": [{"kind", "ref"}, ...]},
    }

Everything outside ``free_text`` is a coded value; ``place.lat/lon`` and ``contact.phone``
identify a person and must be sealed by storage (DESIGN §3).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialogs import ethnic
from dialogs.flows import DANGER_QUESTIONS, STEPS, reporter_of
from dialogs.languages import preferred_language
from dialogs.triage import triage

GBVIMS_ORDER = (
    "rape",
    "sexual_assault",
    "physical_assault",
    "forced_marriage",
    "denial_of_resources",
    "psychological_abuse",
)
# Non-contact harassment, online, at work or at school, is psychological/emotional abuse in
# GBVIMS when nothing higher in the tree applies; trafficking is a context, not a type. Being
# made to marry a blood relative (Marriage and Family Law 2014, art. 5) is a forced marriage.
_HARASSMENT = ("online_violence", "workplace_sexual_harassment", "school_violence")
_SEXUAL = ("rape", "sexual_assault")
_MARRIAGE = ("forced_marriage", "consanguineous_marriage")

# The urgent alert's buttons that send it (dg.who's options but "do not send").
_ALERT_BUTTONS = frozenset(o.code for o in STEPS["dg.who"].options if o.code != "nosend")

# The contexts the provincial plans report beside the GBVIMS types, in their column order:
# the report's ``counted_contexts`` (and the case's ``contexts``) hold these only.
COUNTED_CONTEXTS = ("trafficking", "child_or_forced_marriage", "online", "workplace", "school")


def _value(step_id: str, code: Any) -> Any:
    """Map an option code stored in the state to its reported value."""
    if code is None:
        return None
    for o in STEPS[step_id].options:
        if o.code == code:
            return o.code if o.value is None and o.code not in ("u", "pns") else o.value
    return None


def _values(step_id: str, codes: list | None) -> list:
    if not codes:
        return []
    order = {o.code: i for i, o in enumerate(STEPS[step_id].options)}
    return [_value(step_id, c) for c in sorted(codes, key=lambda c: order.get(c, 99)) if c in order]


def category_of(types: list[str]) -> str:
    for t in GBVIMS_ORDER:
        if t in types or (t == "forced_marriage" and "consanguineous_marriage" in types):
            return t
    if any(t in types for t in _HARASSMENT):
        return "psychological_abuse"
    return "unknown"


def build_report(st: dict, now: datetime) -> dict[str, Any]:
    a: dict = st.get("a") or {}
    flow = st.get("f") or "sv"
    p = {"sv": "sv", "wt": "wt", "dg": "sv"}[flow]
    stamps: dict = st.get("ts") or {}
    now_iso = now.isoformat(timespec="seconds")

    types = _values(f"{p}.what", a.get("types"))
    perp = _value("sv.who", a.get("perp")) if flow == "sv" else None
    when = _value(f"{p}.when", a.get("when"))
    age = _value("sv.age", a.get("age")) if flow != "wt" else None
    child = age in ("0-11", "12-17")
    witness = None
    if flow == "wt":
        witness = {
            "relation": _value("wt.rel", a.get("rel")),
            "victim_knows": _value("wt.knows", a.get("knows")),
            "victim_is_child": _value("wt.child", a.get("child")),
            "danger_now": _value("wt.danger", a.get("danger_now")),
        }
        child = witness["victim_is_child"] is True
    if flow == "dg" and a.get("dg_who") == "child":
        child = True

    within_72h = when in ("now", "last_72h")
    context = []
    if perp == "partner_or_ex":
        context.append("intimate_partner")
    if child:
        context.append("child")
        if any(t in types for t in _SEXUAL):
            context.append("child_sexual_abuse")
        if any(t in types for t in _MARRIAGE):
            context.append("early_marriage")
    if any(t in types for t in _MARRIAGE):
        context.append("child_or_forced_marriage")
    if "consanguineous_marriage" in types:
        context.append("consanguineous_marriage")
    for t, c in (
        ("online_violence", "online"),
        ("workplace_sexual_harassment", "workplace"),
        ("trafficking", "trafficking"),
        ("school_violence", "school"),
    ):
        if t in types:
            context.append(c)
    if within_72h:
        context.append("within_72h")

    signs = (
        [sign for field, _step, _label, sign in DANGER_QUESTIONS if a.get(field) == "y"]
        if flow == "sv"
        else []
    )
    urgency, reasons = triage(
        danger_now=flow == "dg" or bool(witness and witness["danger_now"] is True),
        signs=signs,
        child=child,
        when=when,
        types=types,
    )

    place_in = a.get("place") or {}
    place = {}
    for k_in, k_out in (
        ("code", "commune_code"),
        ("name", "commune_name"),
        ("prov", "province_name"),
        ("lat", "lat"),
        ("lon", "lon"),
    ):
        if place_in.get(k_in) is not None:
            place[k_out] = place_in[k_in]

    if flow == "dg":
        referral = a.get("dg_who") not in (None, "nosend")
        # Pressing an alert button, whose question names the police, is her consent to them;
        # words that meant no button (flows' ``unclear``) send the alert to the hotline's own.
        police = a.get("dg_who") in _ALERT_BUTTONS
        consent = {
            "referral": {"value": referral, "at": stamps.get("dg_who")},
            "organisations": {"value": ["police"] if police else [], "at": stamps.get("dg_who")},
            "statistics": {"value": False, "at": None},
        }
        contact = {"method": "chat", "phone": None, "safe_times": None, "status_updates": True}
        reporter = reporter_of(st)
    else:
        referral = a.get("referral") == "y"
        consent = {
            "referral": {"value": referral, "at": stamps.get("referral")},
            "organisations": {
                "value": _values(f"{p}.orgs", a.get("orgs")) if referral else [],
                "at": stamps.get("orgs") if referral else None,
            },
            "statistics": {"value": a.get("stats") == "y", "at": stamps.get("stats")},
        }
        method = _value(f"{p}.contact", a.get("contact")) or "none"
        contact = {
            "method": method,
            "phone": a.get("phone") if method == "phone" else None,
            "safe_times": _value(f"{p}.times", a.get("times")) if method == "phone" else None,
            "status_updates": method == "chat",
        }
        reporter = reporter_of(st)

    # What is kept only for statistics is kept only when she agreed to be counted.
    counted = consent["statistics"]["value"] is True
    return {
        "schema": 1,
        "flow": {"sv": "survivor", "wt": "witness", "dg": "danger"}[flow],
        "reporter": reporter,
        "urgency": urgency,
        "urgency_reasons": list(reasons),
        "danger_signs": signs,
        "category": category_of(types),
        "types": types,
        "context": context,
        "perpetrator": perp,
        "when": when,
        "age_band": age,
        "sex": _value("sv.sex", a.get("sex")) if flow == "sv" else None,
        "disability": _value("sv.dis", a.get("disability")) if flow == "sv" else None,
        # Kept only when she agreed to be counted, and only as codes (DESIGN §4).
        "ethnic_code": ethnic.gso_code(a.get("ethnic")) if counted and flow == "sv" else None,
        "migrant": _value("sv.mig", a.get("migrant")) if counted and flow == "sv" else None,
        "counted_contexts": [c for c in COUNTED_CONTEXTS if c in context] if counted else [],
        "place": place,
        "needs": _values("sv.needs", a.get("needs")) if flow == "sv" else [],
        "consent": consent,
        "contact": contact,
        "child_protection": child,
        "witness": witness,
        "language": st.get("l", "vi"),
        "preferred_language": preferred_language(st),
        "created_at": now_iso,
        "free_text": {
            "account": list(st.get("acc") or ()),
            "media": [{"kind": m["k"], "ref": m["r"]} for m in (st.get("med") or ())],
        },
    }
