"""The conversation, declared as data: steps, message ids, options, validators, branches.

A step's ``kind`` selects a generic handler in the engine:

- ``choice``  one option (``field`` stores its code; ``branch`` maps codes to next steps)
- ``multi``   several options toggled on one message, then Done (``field`` stores a list)
- ``place``   type a place name (-> ``SearchPlace``) or share a location, then confirm
- ``phone``   type or share a phone number (validated)
- ``account`` free text and media over several messages, then Done
- ``code``    type a receipt code (-> ``LookupReceipt``)
- ``summary`` show the answers; send, correct or delete
- ``submit``  emit ``SubmitReport`` and wait for ``ReportSubmitted``
- ``receipt`` show the receipt code once; "I have saved it" deletes the message

``when=(field, values)`` skips a step unless the answer to ``field`` is one of ``values``.
``group``: when correcting from the summary, the steps of one group are asked together.
An option's ``note`` (message id or ids) is shown at the top of the next message.
Targets starting with ``@`` are special: ``@back`` returns to where the person was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field

from dialogs import ethnic
from dialogs.i18n import N_


@dataclass(frozen=True, slots=True)
class Opt:
    code: str
    label: str  # message id
    note: str | tuple[str, ...] | None = None  # message id(s) shown atop the next message
    value: object = None  # what is stored/reported (default: code)


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    kind: str
    prompt: tuple[str, ...]
    options: tuple[Opt, ...] = ()
    field: str | None = None
    next: str | None = None
    branch: dict[str, str] = dc_field(default_factory=dict)
    skip: bool = False
    when: tuple[str, tuple] | None = None
    stamp: bool = False  # record an ISO timestamp with the answer (consent)
    group: str | None = None
    request_location: bool = False
    request_contact: bool = False
    confirm_location: bool = True  # place: confirm the nearest commune after a location
    overlay: bool = False  # help, language, info…: "@back" returns to the draft
    sink: str = "draft"  # account: "draft" (report) or "fu" (follow-up)
    danger: bool = False  # numbers in the text already
    # choice: the option codes shown, from the answers (default: all ``options``, in order);
    # the others are still accepted, e.g. from a typed name
    shown: Callable[[dict], tuple[str, ...]] | None = None
    # choice: a typed text that is no option's label -> the option code it means, or None
    typed: Callable[[str], str | None] | None = None
    typed_miss: str | None = None  # note when ``typed`` finds nothing (default: as any text)
    # choice: the answer that a message meaning no option stands for when it comes a second
    # time in a row (its words or file kept with the account), where asking on would keep
    # from her what the step promised (the urgent alert); None: ask again
    unclear: str | None = None


# --- option sets ----------------------------------------------------------------------

YES = Opt("y", N_("opt.yes"), value=True)
NO = Opt("n", N_("opt.no"), value=False)
UNSURE = Opt("u", N_("opt.unsure"), value=None)
PREFER_NOT = Opt(ethnic.PREFER_NOT, N_("opt.prefer_not"), value=None)

TYPES = (
    Opt("rape", N_("type.rape"), value="rape"),
    Opt("sex", N_("type.sexual_assault"), value="sexual_assault"),
    Opt("phys", N_("type.physical_assault"), value="physical_assault"),
    Opt("marr", N_("type.forced_marriage"), value="forced_marriage"),
    Opt("res", N_("type.denial_of_resources"), value="denial_of_resources"),
    Opt("psy", N_("type.psychological_abuse"), value="psychological_abuse"),
    Opt("online", N_("type.online_violence"), value="online_violence"),
    Opt("work", N_("type.workplace_harassment"), value="workplace_sexual_harassment"),
    Opt("traff", N_("type.trafficking"), value="trafficking"),
    Opt("kin", N_("type.consanguineous_marriage"), value="consanguineous_marriage"),
    Opt("school", N_("type.school"), value="school_violence"),
)
WHEN = (
    Opt("now", N_("when.now"), note=(N_("note.now"), N_("note.72h")), value="now"),
    Opt("72h", N_("when.72h"), note=N_("note.72h"), value="last_72h"),
    Opt("month", N_("when.month"), value="this_month"),
    Opt("earlier", N_("when.earlier"), value="earlier"),
)
# The same for a witness: the advice is about the person it happened to, and a witness is
# asked nothing about needs.
WHEN_WITNESS = (
    Opt("now", N_("when.now"), note=(N_("note.now"), N_("note.72h_witness")), value="now"),
    Opt("72h", N_("when.72h"), note=N_("note.72h_witness"), value="last_72h"),
    *WHEN[2:],
)
PERP = (
    Opt("partner", N_("perp.partner"), value="partner_or_ex"),
    Opt("family", N_("perp.family"), value="family_member"),
    Opt("work", N_("perp.work"), value="employer_or_coworker"),
    Opt("stranger", N_("perp.stranger"), value="stranger"),
    Opt("other", N_("perp.other"), value="other"),
)
AGE = (
    Opt("a0", N_("age.0_11"), note=N_("note.child"), value="0-11"),
    Opt("a12", N_("age.12_17"), note=N_("note.child"), value="12-17"),
    Opt("a18", N_("age.18_25"), value="18-25"),
    Opt("a26", N_("age.26_40"), value="26-40"),
    Opt("a41", N_("age.41_60"), value="41-60"),
    Opt("a61", N_("age.61_plus"), value="61+"),
)
SEX = (
    Opt("f", N_("sex.female"), value="female"),
    Opt("m", N_("sex.male"), value="male"),
    Opt("o", N_("sex.other"), value="other"),
)
# All 54 groups are accepted; a screen shows her province's first (dialogs.ethnic).
ETHNIC = (
    *(Opt(slug, label, value=slug) for _gso, slug, label in ethnic.GROUPS),
    Opt(ethnic.OTHER, N_("eth.other"), value=None),
    PREFER_NOT,
)
NEEDS = (
    Opt("med", N_("need.medical"), value="medical"),
    Opt("psy", N_("need.psychosocial"), value="psychosocial"),
    Opt("legal", N_("need.legal"), value="legal"),
    Opt("shelter", N_("need.shelter"), value="shelter"),
    Opt("police", N_("need.police"), value="police"),
    Opt("info", N_("need.info"), value="information"),
)
ORGS = (
    Opt("health", N_("org.health"), value="health"),
    Opt("social", N_("org.social"), value="social"),
    Opt("police", N_("org.police"), value="police"),
    Opt("legal", N_("org.legal"), value="legal_aid"),
    Opt("shelter", N_("org.shelter"), value="shelter"),
    Opt("women", N_("org.womens_union"), value="womens_union"),
    Opt("school", N_("org.education"), value="education"),
)
CONTACT = (
    Opt("chat", N_("contact.chat"), value="chat"),
    Opt("phone", N_("contact.phone"), value="phone"),
    Opt("none", N_("contact.none"), value="none"),
)
TIMES = (
    Opt("any", N_("times.any"), value="any"),
    Opt("am", N_("times.morning"), value="morning"),
    Opt("pm", N_("times.afternoon"), value="afternoon"),
    Opt("eve", N_("times.evening"), value="evening"),
)
RELATION = (
    Opt("family", N_("rel.family"), value="family"),
    Opt("friend", N_("rel.friend"), value="friend_or_neighbour"),
    Opt("work", N_("rel.work"), value="colleague"),
    Opt("prof", N_("rel.professional"), value="professional"),
    Opt("other", N_("rel.other"), value="other"),
)


# Danger questions (survivor flow), after a lethality screen: the Danger Assessment
# (Campbell et al., "Risk factors for femicide in abusive relationships", Am J Public Health
# 2003;93:1089-97: strangulation, a weapon and threats to kill are among the strongest
# predictors of intimate partner homicide) and its short field form, the Lethality
# Assessment Program screen (LAP-DV, Maryland Network Against Domestic Violence: a "yes" to
# weapon, threat to kill or "might try to kill you" screens in at once; pregnancy, violence
# getting worse and fear among the other items). Each is one yes/no question and may be
# skipped; only a "yes" counts (dialogs/triage.py), so skipping never lowers urgency.
# (field, step id, label id of the sign on the summary and the card, coded sign)
DANGER_QUESTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("dq_strang", "sv.dq_strang", N_("sign.strangulation"), "strangulation"),
    ("dq_weapon", "sv.dq_weapon", N_("sign.weapon"), "weapon"),
    ("dq_kill", "sv.dq_kill", N_("sign.threat_to_kill"), "threat_to_kill"),
    ("dq_home", "sv.dq_home", N_("sign.afraid_to_go_home"), "afraid_to_go_home"),
    ("dq_worse", "sv.dq_worse", N_("sign.escalating"), "escalating"),
    ("dq_preg", "sv.dq_preg", N_("sign.pregnant"), "pregnant"),
)


def _s(id, kind, prompt, **kw) -> Step:  # noqa: A002
    if isinstance(prompt, str):
        prompt = (prompt,)
    return Step(id, kind, tuple(prompt), **kw)


# What each danger step asks, in DANGER_QUESTIONS' order (the first also says why they are
# asked), and the note a "yes" to it brings.
_DANGER_ASKS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    ((N_("dq.intro"), N_("dq.strang")), N_("note.strangled")),
    ((N_("dq.weapon"),), None),
    ((N_("dq.kill"),), None),
    ((N_("dq.home"),), None),
    ((N_("dq.worse"),), None),
    ((N_("dq.preg"),), None),
)


def _danger_steps(then: str) -> list[Step]:
    """The danger questions as skippable yes/no steps, one after another, then ``then``."""
    ids = [step_id for _field, step_id, _label, _sign in DANGER_QUESTIONS] + [then]
    steps = []
    for i, ((field, step_id, _label, _sign), (prompt, note)) in enumerate(
        zip(DANGER_QUESTIONS, _DANGER_ASKS, strict=True)
    ):
        yes = YES if note is None else Opt("y", N_("opt.yes"), note=note, value=True)
        steps.append(
            _s(
                step_id,
                "choice",
                prompt,
                field=field,
                options=(yes, NO),
                skip=True,
                next=ids[i + 1],
                group="safety",
            )
        )
    return steps


# The answers to the safety question, the same on the first message and on its "read more".
SAFE = (
    Opt("safe", N_("opt.safe_yes")),
    Opt("danger", N_("opt.safe_danger")),
    Opt("later", N_("opt.safe_later")),
)
SAFE_BRANCH = {"safe": "menu", "danger": "dg.loc", "later": "later"}

STEPS_LIST: list[Step] = [
    # 1. start, language and safety first
    _s(
        "start",
        "choice",
        (N_("start.intro"), N_("start.safe")),
        options=(*SAFE, Opt("more", N_("opt.read_more"))),
        branch={**SAFE_BRANCH, "more": "start.more"},
    ),
    # the rest of the first message, one tap away: who sees, where messages stay, quick exit
    _s(
        "start.more",
        "choice",
        (N_("start.more"), N_("start.safe")),
        options=SAFE,
        branch=SAFE_BRANCH,
    ),
    _s("later", "choice", N_("later.text"), options=(Opt("ok", N_("opt.can_talk")),), next="menu"),
    _s(
        "menu",
        "choice",
        N_("menu.q"),
        options=(
            Opt("me", N_("menu.me")),
            Opt("other", N_("menu.other")),
            Opt("code", N_("menu.code")),
            Opt("info", N_("menu.info")),
        ),
        branch={"me": "sv.what", "other": "wt.rel", "code": "fu.code", "info": "info"},
    ),
    _s(
        "resume",
        "choice",
        N_("resume.q"),
        options=(
            Opt("cont", N_("resume.continue")),
            Opt("new", N_("resume.new")),
        ),
        branch={"cont": "@back", "new": "@new"},
        overlay=True,
    ),
    # 2. immediate danger: numbers first, then at most two questions, then the alert
    _s(
        "dg.loc",
        "place",
        (N_("dg.numbers"), N_("dg.loc")),
        field="place",
        skip=True,
        request_location=True,
        confirm_location=False,
        next="dg.who",
        danger=True,
    ),
    _s(
        "dg.who",
        "choice",
        N_("dg.who"),
        field="dg_who",
        options=(
            Opt("me", N_("dg.who_me"), value="me"),
            Opt("child", N_("dg.who_child"), value="child"),
            Opt("other", N_("dg.who_other"), value="other"),
            Opt("nosend", N_("dg.who_nosend"), value="nosend"),
        ),
        branch={"nosend": "dg.nosend"},
        next="submit",
        stamp=True,
        danger=True,
        unclear="unsaid",
    ),
    _s(
        "dg.nosend",
        "choice",
        N_("dg.nosend"),
        options=(
            Opt("send", N_("dg.send_anyway")),
            Opt("menu", N_("opt.menu")),
        ),
        branch={"send": "dg.who", "menu": "menu"},
        danger=True,
    ),
    _s(
        "sos",
        "choice",
        N_("sos.text"),
        options=(
            Opt("alert", N_("sos.alert")),
            Opt("back", N_("opt.back")),
        ),
        branch={"alert": "dg.loc", "back": "@back"},
        overlay=True,
        danger=True,
    ),
    # 3. survivor report
    _s(
        "sv.what",
        "multi",
        N_("sv.what"),
        field="types",
        options=TYPES,
        skip=True,
        next="sv.who",
        group="what",
    ),
    _s(
        "sv.who",
        "choice",
        N_("sv.who"),
        field="perp",
        options=PERP,
        skip=True,
        next="sv.when",
        group="who",
    ),
    _s(
        "sv.when",
        "choice",
        N_("sv.when"),
        field="when",
        options=WHEN,
        skip=True,
        next="sv.dq_strang",
        group="when",
    ),
    *_danger_steps(then="sv.where"),
    _s(
        "sv.where",
        "place",
        N_("sv.where"),
        field="place",
        skip=True,
        request_location=True,
        next="sv.age",
        group="where",
    ),
    _s(
        "sv.age",
        "choice",
        (N_("about.intro"), N_("sv.age")),
        field="age",
        options=AGE,
        skip=True,
        next="sv.sex",
        group="about",
    ),
    _s(
        "sv.sex",
        "choice",
        N_("sv.sex"),
        field="sex",
        options=SEX,
        skip=True,
        next="sv.dis",
        group="about",
    ),
    _s(
        "sv.dis",
        "choice",
        N_("sv.dis"),
        field="disability",
        options=(YES, NO),
        skip=True,
        next="sv.eth",
        group="about",
    ),
    # Ethnic group and migrant status are the plans' priority groups: asked here, kept
    # (as codes) only when she agrees to be counted (dialogs.report), never sealed away.
    _s(
        "sv.eth",
        "choice",
        (N_("sv.eth"), N_("eth.why")),
        field="ethnic",
        options=ETHNIC,
        shown=ethnic.shown_for,
        typed=ethnic.match,
        branch={ethnic.OTHER: "sv.eth_other"},
        next="sv.mig",
        skip=True,
        group="about",
    ),
    _s(
        "sv.eth_other",
        "choice",
        N_("eth.type"),
        field="ethnic",
        options=(Opt(ethnic.OTHER, N_("eth.other_unnamed"), value=None), PREFER_NOT),
        typed=ethnic.match,
        typed_miss=N_("eth.unknown"),
        next="sv.mig",
        skip=True,
        group="about",
    ),
    _s(
        "sv.mig",
        "choice",
        N_("sv.mig"),
        field="migrant",
        options=(YES, NO, PREFER_NOT),
        next="sv.needs",
        skip=True,
        group="about",
    ),
    _s(
        "sv.needs",
        "multi",
        N_("sv.needs"),
        field="needs",
        options=NEEDS,
        skip=True,
        next="sv.share",
        group="needs",
    ),
    _s(
        "sv.share",
        "choice",
        (N_("sv.share"), N_("who.sees")),
        field="referral",
        options=(Opt("y", N_("share.yes"), value=True), Opt("n", N_("share.no"), value=False)),
        stamp=True,
        next="sv.orgs",
        group="consent",
    ),
    _s(
        "sv.orgs",
        "multi",
        N_("sv.orgs"),
        field="orgs",
        options=ORGS,
        stamp=True,
        when=("referral", ("y",)),
        next="sv.stats",
        group="consent",
    ),
    _s(
        "sv.stats",
        "choice",
        N_("sv.stats"),
        field="stats",
        options=(YES, NO),
        stamp=True,
        next="sv.contact",
        group="consent",
    ),
    _s(
        "sv.contact",
        "choice",
        N_("sv.contact"),
        field="contact",
        options=CONTACT,
        next="sv.phone",
        group="contact",
    ),
    _s(
        "sv.phone",
        "phone",
        N_("ask.phone"),
        field="phone",
        skip=True,
        request_contact=True,
        when=("contact", ("phone",)),
        next="sv.times",
        group="contact",
    ),
    _s(
        "sv.times",
        "choice",
        N_("ask.times"),
        field="times",
        options=TIMES,
        skip=True,
        when=("contact", ("phone",)),
        next="sv.acc",
        group="contact",
    ),
    _s("sv.acc", "account", N_("sv.acc"), next="sv.att", group="account"),
    _s("sv.att", "account", N_("sv.att"), next="sv.sum", group="account"),
    _s(
        "sv.sum",
        "summary",
        (),
        options=(
            Opt("send", N_("sum.send")),
            Opt("fix", N_("sum.fix")),
            Opt("del", N_("sum.delete")),
        ),
        branch={"send": "submit", "fix": "fix", "del": "del"},
    ),
    # 4. witness report
    _s(
        "wt.rel",
        "choice",
        N_("wt.rel"),
        field="rel",
        options=RELATION,
        skip=True,
        next="wt.knows",
        group="witness",
    ),
    _s(
        "wt.knows",
        "choice",
        N_("wt.knows"),
        field="knows",
        options=(YES, NO, UNSURE),
        next="wt.child",
        group="witness",
    ),
    _s(
        "wt.child",
        "choice",
        N_("wt.child"),
        field="child",
        options=(
            Opt("y", N_("opt.yes"), note=N_("note.child"), value=True),
            NO,
            UNSURE,
        ),
        next="wt.danger",
        group="witness",
    ),
    _s(
        "wt.danger",
        "choice",
        N_("wt.danger"),
        field="danger_now",
        options=(
            Opt("y", N_("opt.yes"), note=N_("note.numbers"), value=True),
            NO,
            UNSURE,
        ),
        next="wt.what",
        group="witness",
    ),
    _s(
        "wt.what",
        "multi",
        N_("wt.what"),
        field="types",
        options=TYPES,
        skip=True,
        next="wt.where",
        group="what",
    ),
    _s(
        "wt.where",
        "place",
        N_("wt.where"),
        field="place",
        skip=True,
        request_location=True,
        next="wt.when",
        group="where",
    ),
    _s(
        "wt.when",
        "choice",
        N_("wt.when"),
        field="when",
        options=WHEN_WITNESS,
        skip=True,
        next="wt.contact",
        group="when",
    ),
    _s(
        "wt.contact",
        "choice",
        N_("wt.contact"),
        field="contact",
        options=CONTACT,
        next="wt.phone",
        group="contact",
    ),
    _s(
        "wt.phone",
        "phone",
        N_("ask.phone"),
        field="phone",
        skip=True,
        request_contact=True,
        when=("contact", ("phone",)),
        next="wt.times",
        group="contact",
    ),
    _s(
        "wt.times",
        "choice",
        N_("ask.times"),
        field="times",
        options=TIMES,
        skip=True,
        when=("contact", ("phone",)),
        next="wt.share",
        group="contact",
    ),
    _s(
        "wt.share",
        "choice",
        (N_("wt.share"), N_("who.sees")),
        field="referral",
        options=(Opt("y", N_("share.yes"), value=True), Opt("n", N_("share.no"), value=False)),
        stamp=True,
        next="wt.orgs",
        group="consent",
    ),
    _s(
        "wt.orgs",
        "multi",
        N_("sv.orgs"),
        field="orgs",
        options=ORGS,
        stamp=True,
        when=("referral", ("y",)),
        next="wt.stats",
        group="consent",
    ),
    _s(
        "wt.stats",
        "choice",
        N_("sv.stats"),
        field="stats",
        options=(YES, NO),
        stamp=True,
        next="wt.acc",
        group="consent",
    ),
    _s("wt.acc", "account", N_("wt.acc"), next="wt.sum", group="account"),
    _s(
        "wt.sum",
        "summary",
        (),
        options=(
            Opt("send", N_("sum.send")),
            Opt("fix", N_("sum.fix")),
            Opt("del", N_("sum.delete")),
        ),
        branch={"send": "submit", "fix": "fix", "del": "del"},
    ),
    # shared end of a report
    _s("fix", "choice", N_("fix.q"), options=(), branch={}),  # options built per flow
    _s("submit", "submit", ()),
    _s("receipt", "receipt", N_("rc.show"), options=(Opt("saved", N_("rc.saved")),)),
    _s(
        "done",
        "choice",
        N_("done.text"),
        options=(
            Opt("menu", N_("opt.menu")),
            Opt("info", N_("menu.info")),
        ),
        branch={"menu": "menu", "info": "info"},
    ),
    # 5. follow-up with a receipt code
    _s(
        "fu.code",
        "code",
        N_("fu.code"),
        options=(Opt("back", N_("opt.back")),),
        branch={"back": "@back"},
        overlay=True,
    ),
    _s(
        "fu.case",
        "choice",
        (),
        options=(
            Opt("add", N_("fu.opt_add")),
            Opt("reply", N_("fu.opt_reply")),
            Opt("stop", N_("fu.opt_stop")),
            Opt("wd", N_("fu.opt_withdraw")),
            Opt("back", N_("opt.back")),
        ),
        branch={
            "add": "fu.add",
            "reply": "fu.reply",
            "stop": "fu.stop",
            "wd": "fu.wd",
            "back": "@back",
        },
        overlay=True,
    ),
    _s("fu.add", "account", N_("fu.add"), sink="fu", overlay=True, next="fu.case"),
    _s("fu.reply", "account", N_("fu.reply"), sink="fu", overlay=True, next="fu.case"),
    _s(
        "fu.stop",
        "choice",
        N_("fu.stop_q"),
        options=(YES, NO),
        overlay=True,
        branch={"y": "@stop", "n": "fu.case"},
    ),
    _s(
        "fu.wd",
        "choice",
        N_("fu.wd_q"),
        options=(
            Opt("y", N_("fu.wd_yes")),
            Opt("n", N_("fu.wd_no")),
        ),
        overlay=True,
        branch={"y": "@withdraw", "n": "fu.case"},
    ),
    _s(
        "fu.gone",
        "choice",
        N_("fu.deleted"),
        options=(Opt("back", N_("opt.back")),),
        overlay=True,
        branch={"back": "@back"},
    ),
    # a follow-up message that no one can take up (a closed case whose holder has gone)
    _s(
        "fu.unheld",
        "choice",
        N_("fu.unheld"),
        options=(
            Opt("menu", N_("opt.menu")),
            Opt("lines", N_("info.opt_hotlines")),
        ),
        overlay=True,
        branch={"menu": "menu", "lines": "info.lines"},
    ),
    # 7. information
    _s(
        "info",
        "choice",
        N_("info.q"),
        options=(
            Opt("rights", N_("info.opt_rights")),
            Opt("services", N_("info.opt_services")),
            Opt("lines", N_("info.opt_hotlines")),
            Opt("digital", N_("info.opt_digital")),
            Opt("law", N_("info.opt_law")),
            Opt("back", N_("opt.back")),
        ),
        branch={
            "rights": "info.rights",
            "services": "info.services",
            "lines": "info.lines",
            "digital": "info.digital",
            "law": "info.law",
            "back": "@back",
        },
        overlay=True,
    ),
    *(
        _s(
            f"info.{k}",
            "choice",
            msg,
            options=(
                Opt("more", N_("info.more")),
                Opt("back", N_("opt.back")),
            ),
            branch={"more": "info", "back": "@back"},
            overlay=True,
        )
        for k, msg in (
            ("rights", N_("info.rights")),
            ("services", N_("info.services")),
            ("lines", N_("info.hotlines")),
            ("digital", N_("info.digital")),
            ("law", N_("info.law")),
        )
    ),
    # help, language, delete
    _s(
        "help",
        "choice",
        N_("help.text"),
        options=(
            Opt("back", N_("opt.back")),
            Opt("menu", N_("opt.menu")),
        ),
        branch={"back": "@back", "menu": "menu"},
        overlay=True,
    ),
    _s("lang", "choice", N_("lang.q"), options=(), overlay=True),  # options: the languages
    _s(
        "del",
        "choice",
        N_("del.q"),
        options=(
            Opt("y", N_("del.yes")),
            Opt("n", N_("del.no")),
        ),
        branch={"y": "@delete", "n": "@back"},
        overlay=True,
    ),
]

STEPS: dict[str, Step] = {s.id: s for s in STEPS_LIST}

# What the summary shows and what "correct" offers, per flow: (label id, field, step id).
SUMMARY = {
    "sv": (
        (N_("sum.what"), "types", "sv.what"),
        (N_("sum.who"), "perp", "sv.who"),
        (N_("sum.when"), "when", "sv.when"),
        (N_("sum.danger_signs"), "@danger", "sv.dq_strang"),
        (N_("sum.where"), "place", "sv.where"),
        (N_("sum.age"), "age", "sv.age"),
        (N_("sum.sex"), "sex", "sv.sex"),
        (N_("sum.disability"), "disability", "sv.dis"),
        (N_("sum.ethnic"), "ethnic", "sv.eth"),
        (N_("sum.migrant"), "migrant", "sv.mig"),
        (N_("sum.needs"), "needs", "sv.needs"),
        (N_("sum.share"), "referral", "sv.share"),
        (N_("sum.orgs"), "orgs", "sv.orgs"),
        (N_("sum.stats"), "stats", "sv.stats"),
        (N_("sum.contact"), "contact", "sv.contact"),
        (N_("sum.phone"), "phone", "sv.phone"),
        (N_("sum.times"), "times", "sv.times"),
        (N_("sum.account"), "@acc", "sv.acc"),
    ),
    "wt": (
        (N_("sum.relation"), "rel", "wt.rel"),
        (N_("sum.knows"), "knows", "wt.knows"),
        (N_("sum.child"), "child", "wt.child"),
        (N_("sum.danger"), "danger_now", "wt.danger"),
        (N_("sum.what"), "types", "wt.what"),
        (N_("sum.where"), "place", "wt.where"),
        (N_("sum.when"), "when", "wt.when"),
        (N_("sum.contact"), "contact", "wt.contact"),
        (N_("sum.phone"), "phone", "wt.phone"),
        (N_("sum.times"), "times", "wt.times"),
        (N_("sum.share"), "referral", "wt.share"),
        (N_("sum.orgs"), "orgs", "wt.orgs"),
        (N_("sum.stats"), "stats", "wt.stats"),
        (N_("sum.account"), "@acc", "wt.acc"),
    ),
}
# "Correct" menu: one entry per group (first step of the group), per flow.
FIX = {
    "sv": (
        ("what", N_("sum.what"), "sv.what"),
        ("who", N_("sum.who"), "sv.who"),
        ("when", N_("sum.when"), "sv.when"),
        ("safety", N_("fix.safety"), "sv.dq_strang"),
        ("where", N_("sum.where"), "sv.where"),
        ("about", N_("fix.about"), "sv.age"),
        ("needs", N_("sum.needs"), "sv.needs"),
        ("consent", N_("fix.consent"), "sv.share"),
        ("contact", N_("sum.contact"), "sv.contact"),
        ("account", N_("sum.account"), "sv.acc"),
    ),
    "wt": (
        ("witness", N_("fix.witness"), "wt.rel"),
        ("what", N_("sum.what"), "wt.what"),
        ("where", N_("sum.where"), "wt.where"),
        ("when", N_("sum.when"), "wt.when"),
        ("contact", N_("sum.contact"), "wt.contact"),
        ("consent", N_("fix.consent"), "wt.share"),
        ("account", N_("sum.account"), "wt.acc"),
    ),
}


def flow_of(step_id: str) -> str | None:
    head = step_id.split(".", 1)[0]
    return head if head in ("sv", "wt", "dg") else None


def reporter_of(st: dict) -> str:
    """Who is reporting, from a conversation's state: the witness flow, or an urgent
    alert for a child or someone else, is a witness's; else the survivor's."""
    if st.get("by"):  # kept past the report's sending, when the draft is gone
        return st["by"]
    flow, who = st.get("f"), (st.get("a") or {}).get("dg_who")
    return "witness" if flow == "wt" or (flow == "dg" and who in ("child", "other")) else "survivor"


# A shared step's prompt where what it says fits only one reporter: "you are not to
# blame" is for the survivor; a witness is thanked for speaking up.
ROLE_PROMPTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("done", "witness"): (N_("done.witness"),),
}


def prompt_of(step: Step, st: dict) -> tuple[str, ...]:
    """The message ids of ``step``'s prompt for whoever is reporting (state ``st``)."""
    return ROLE_PROMPTS.get((step.id, reporter_of(st)), step.prompt)


def check() -> None:
    """Consistency of the declared flows (run by the tests)."""
    for s in STEPS_LIST:
        targets = list(s.branch.values()) + ([s.next] if s.next else [])
        for t in targets:
            assert t.startswith("@") or t in STEPS, (s.id, t)
        for o in s.options:
            assert o.code.isascii() and len(o.code) <= 10, (s.id, o.code)
        if s.when:
            assert s.when[0], s.id
    for field, step_id, _label, _sign in DANGER_QUESTIONS:
        assert STEPS[step_id].field == field and STEPS[step_id].skip, step_id
    codes = {o.code for o in STEPS["sv.eth"].options}
    for groups in (*ethnic.SHORTLISTS.values(), ethnic.DEFAULT_SHORTLIST):
        assert set(groups) <= codes, groups
    for flow, rows in FIX.items():
        for _code, _label, target in rows:
            assert target in STEPS and STEPS[target].id.startswith(flow)
