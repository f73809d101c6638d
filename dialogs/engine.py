"""The pure conversation engine: ``handle(state, event, now) -> (state, actions, commands)``.

No clock reads, no randomness, no I/O. The state is a small JSON-serialisable dict:

=====  ==============================================================================
``v``  state version (``STATE_VERSION``); another version restarts safely
``l``  language code                    ``t``  last touched, epoch seconds (UTC)
``s``  current step id ("" = nothing shown yet, "exited" = after quick exit)
``n``  prompt counter: the token in option data that recognises stale buttons
``f``  flow of the draft (sv|wt|dg)     ``d``  the draft's current step
``r``  where an overlay (help, language, information, follow-up…) returns to
``a``  answers {field: option code | list | place dict | phone}
``ts`` consent time stamps {field: ISO}  ``acc``/``med`` account texts / media refs
``fx`` correcting from the summary       ``pc`` place candidates on screen
``um`` the step whose question was just answered by a message that means no option
``w``/``ws`` waiting for a command's result / since (epoch s)
``case`` {"ref", "st"} the follow-up case   ``fa``/``fm`` follow-up texts / media
``tie`` {"ref", "t"}: the chat is tied to the case whose focal point's message it showed at
       ``t`` (epoch s): a plain message goes to that focal point, for TIE_SILENCE after the
       last message either way; {"ref", "end": 1} once the case closed
``hn`` news of a case is on screen with no step open: a typed number picks a global option
``pl`` the language she chose that is not offered in full: the chat stays in Vietnamese and
       routing prefers a focal point who speaks it (``dialogs.languages``)
=====  ==============================================================================
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

from dialogs import actions as A
from dialogs import commands as C
from dialogs import events as E
from dialogs import languages, speech
from dialogs.flows import (
    DANGER_QUESTIONS,
    FIX,
    STEPS,
    SUMMARY,
    Step,
    flow_of,
    prompt_of,
    reporter_of,
)
from dialogs.i18n import DEFAULT, LANGUAGES, N_, Translator, translator
from dialogs.outbound import news_text
from dialogs.report import build_report
from dialogs.text import (
    MAX_ACCOUNT_PARTS,
    MAX_ACCOUNT_TOTAL,
    MAX_MEDIA,
    MAX_TEXT,
    fold,
    format_receipt_code,
    nfc,
    parse_phone,
    parse_receipt_code,
)

STATE_VERSION = 1
DEFAULT_TTL = timedelta(hours=72)
WAIT_RETRY_S = 60
MAX_CANDIDATES = 5
MAX_SHOWN_MESSAGES = 3
TIE_SILENCE = timedelta(days=7)  # a tie to a case ends after a week without messages
_MISSING = object()
_EXIT_WORDS = frozenset({"exit", "quick exit", "thoat", "thoat nhanh"})
# A typed "no" (folded) where an unclear answer would act (Step.unclear): never taken as one.
_NO_WORDS = frozenset({"khong", "khong gui", "thoi", "huy", "dung", "no", "cancel", "stop"})
_WAIT_BLOCKING = frozenset({"submit", "lookup", "add", "relay", "wd", "stop"})
_DONE_WAIT = {
    "AddToReport": "add",
    "RelayToFocal": "relay",
    "DeleteCase": "wd",
    "WithdrawCase": "wd",
    "StopContact": "stop",
    "SubmitReport": "submit",
    "LookupReceipt": "lookup",
    "SearchPlace": "place",
    "NearestPlaces": "near",
}
_RESULT_TYPES = E.RESULT_EVENTS


# --- public helpers -----------------------------------------------------------------------


def is_expired(state: dict | None, now: datetime, ttl: timedelta = DEFAULT_TTL) -> bool:
    """True when a draft was last touched longer than ``ttl`` ago."""
    if not state or not isinstance(state.get("t"), (int, float)):
        return False
    return now.timestamp() - state["t"] > ttl.total_seconds()


def has_draft(state: dict | None) -> bool:
    """True when the state holds answers of an unsent report."""
    return bool(state) and bool(state.get("a") or state.get("acc") or state.get("med"))


def tie_live(state: dict | None, now: datetime) -> bool:
    """True while the chat is tied to a case: a plain message goes to its focal point."""
    tie = state.get("tie") if isinstance(state, dict) else None
    if not isinstance(tie, dict) or tie.get("end") or not isinstance(tie.get("t"), (int, float)):
        return False
    return now.timestamp() - tie["t"] <= TIE_SILENCE.total_seconds()


def keep_for(state: dict | None, now: datetime, ttl: timedelta = DEFAULT_TTL) -> timedelta:
    """How long the caller keeps the stored state untouched: ``ttl`` (an unsent draft never
    outlives it), or while the chat is tied to a case, ``ttl`` past the tie's week (a plain
    message then hears that the receipt code is the way back; later, the start screen)."""
    if has_draft(state) or not tie_live(state, now):
        return ttl
    left = state["tie"]["t"] + TIE_SILENCE.total_seconds() - now.timestamp()
    return timedelta(seconds=max(left, 0)) + ttl


def render_numbered(text: str, options, lang: str = DEFAULT) -> str:
    """Text with the options as "1. …" lines and a "Reply 1, 2 or 3" line (no-button channels)."""
    opts = list(options)
    if not opts:
        return text
    tr = translator(lang)
    lines = [text, ""] + [f"{i}. {o.label}" for i, o in enumerate(opts, 1)]
    nums = [str(i) for i in range(1, len(opts) + 1)]
    if len(nums) == 1:
        hint = tr.gettext(N_("numbered.one"), n=nums[0])
    else:
        hint = tr.gettext(N_("numbered.many"), first=", ".join(nums[:-1]), last=nums[-1])
    lines += ["", hint]
    return "\n".join(lines)


# --- engine ----------------------------------------------------------------------------------


class _Ctx:
    __slots__ = ("st", "now", "ts", "acts", "cmds", "tr")

    def __init__(self, st: dict, now: datetime, acts: list, cmds: list):
        self.st = st
        self.now = now
        self.ts = int(now.timestamp())
        self.acts = acts
        self.cmds = cmds
        self.tr: Translator = translator(st.get("l", DEFAULT))


def _fresh(lang: str = DEFAULT, n: int = 0, ts: int = 0) -> dict:
    return {"v": STATE_VERSION, "l": lang, "s": "", "n": n, "t": ts}


def _valid(state) -> bool:
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
        return False
    s = state.get("s")
    if not isinstance(s, str) or (s and s != "exited" and s not in STEPS):
        return False
    if not isinstance(state.get("n"), int) or state.get("l") not in LANGUAGES:
        return False
    for k in ("a", "ts", "case", "tie"):
        if k in state and not isinstance(state[k], dict):
            return False
    for k in ("acc", "med", "fa", "fm", "pc"):
        if k in state and not isinstance(state[k], list):
            return False
    return True


def _restore(state, now: datetime, ttl: timedelta, cmds: list) -> dict:
    ts = int(now.timestamp())
    if state is None:
        return _fresh(ts=ts)
    if not _valid(state):
        cmds.append(C.DeleteDraft())
        lang = state.get("l") if isinstance(state, dict) else None
        return _fresh(lang if lang in LANGUAGES else DEFAULT, ts=ts)
    if is_expired(state, now, ttl):
        cmds.append(C.DeleteDraft())
        fresh = _fresh(state["l"], state["n"], ts)
        if "pl" in state:  # her language is not part of the draft
            fresh["pl"] = state["pl"]
        if "tie" in state:  # the draft expires, not the tie (nor the note that it ended)
            fresh["tie"] = state["tie"]
        return fresh
    st = dict(state)
    if "a" in st:
        st["a"] = dict(st["a"])
    return st


def handle(state: dict | None, event: E.Event, now: datetime, *, ttl: timedelta = DEFAULT_TTL):
    """Advance the conversation by one event. Returns ``(new_state, actions, commands)``.

    ``state`` is not modified. ``now`` must be timezone-aware (UTC).
    """
    acts: list = []
    cmds: list = []
    st = _restore(state, now, ttl, cmds)
    c = _Ctx(st, now, acts, cmds)
    _dispatch(c, event)
    acts[:] = _spoken(st, acts)
    if not isinstance(event, E.CaseNews) or state is None:  # news is not the person's touch
        st["t"] = c.ts
    return st, acts, cmds


# --- dispatch --------------------------------------------------------------------------------


def _dispatch(c: _Ctx, ev) -> None:
    st = c.st
    if isinstance(ev, _RESULT_TYPES):
        _on_result(c, ev)
        return
    if isinstance(ev, E.CaseNews):
        _on_news(c, ev)
        return
    if isinstance(ev, E.Command):
        _on_command(c, ev)
        return
    s = st["s"]
    if isinstance(ev, E.Choice):
        data = ev.data if isinstance(ev.data, str) else ""
        if data in A.GLOBAL_DATA:
            _global(c, data)
            return
        if not s or s == "exited":
            _entry(c)
            return
        tok, _, code = data.partition(".")
        if tok != _tok(st) or not code:
            _reprompt(c, N_("bad.stale"))
            return
        _choose(c, code)
        return
    if not s or s == "exited":
        if isinstance(ev, E.Text):
            text = nfc(ev.text) if isinstance(ev.text, str) else ""
            if fold(text[:40]) in _EXIT_WORDS:
                _exit(c)
                return
            code = parse_receipt_code(text)
            if code:
                _lookup(c, code)
                return
            data = _home_number(c, text.strip()) if st.get("hn") else None
            if data:
                _global(c, data)
                return
            if s != "exited" and 0 < len(text.strip()) <= MAX_TEXT and _in_place(c, text.strip()):
                return
        _entry(c)
        return
    if isinstance(ev, E.Text):
        _on_text(c, ev.text if isinstance(ev.text, str) else "")
    elif isinstance(ev, E.Location):
        _on_location(c, ev)
    elif isinstance(ev, E.Contact):
        _on_contact(c, ev)
    elif isinstance(ev, E.Media):
        _on_media(c, ev)
    else:
        _reprompt(c, N_("bad.choose"))


def _tok(st: dict) -> str:
    return format(st["n"], "x")


def _step(c: _Ctx) -> Step:
    return STEPS[c.st["s"]]


# --- commands and global options -------------------------------------------------------------


def _on_command(c: _Ctx, ev: E.Command) -> None:
    st = c.st
    name = (ev.name or "").strip().lstrip("/").lower() if isinstance(ev.name, str) else ""
    arg = ev.arg.strip() if isinstance(ev.arg, str) else None
    if name == "exit":
        _exit(c)
    elif name == "start":
        notes: tuple = ()
        if arg and arg in LANGUAGES and not has_draft(st) and st["s"] in ("", "exited", "start"):
            note = languages.choose(st, arg)
            c.tr = translator(st["l"])
            notes = (note,) if note else ()
        code = parse_receipt_code(arg) if arg else None
        if code:
            _lookup(c, code)
        elif st.get("w") == "submit":
            _waiting(c)
        else:
            st.pop("w", None)
            _entry(c, notes)
    elif name == "help":
        _overlay(c, "help")
    elif name in ("language", "lang", "ngonngu"):
        _overlay(c, "lang")
    elif name == "delete":
        _overlay(c, "del")
    elif name == "code":
        code = parse_receipt_code(arg) if arg else None
        if code:
            _lookup(c, code)
        else:
            _overlay(c, "fu.code")
    elif not st["s"] or st["s"] == "exited":
        _entry(c)
    else:
        _reprompt(c, N_("bad.command"))


def _global(c: _Ctx, data: str) -> None:
    if data == A.EXIT:
        _exit(c)
    elif data == A.SOS:
        _overlay(c, "sos")
    elif data == A.LISTEN:
        _listen(c)
    else:
        _overlay(c, "lang")


def _exit(c: _Ctx) -> None:
    """Quick exit: delete what the channel can delete, leave one neutral line. The draft
    stays (sealed by the caller) unless the person asks to delete it."""
    st = c.st
    s = st["s"]
    if s and s != "exited" and not STEPS[s].overlay:
        st["r"] = s
    st["s"] = "exited"
    st["n"] += 1
    # whoever writes next may not be her
    for k in ("pc", "um", "fx", "fa", "fm", "tie", "hn", "ear"):
        st.pop(k, None)
    if st.get("w") not in ("submit",):
        st.pop("w", None)
    c.acts.append(A.DeleteTracked(None))
    c.acts.append(A.Send(c.tr.gettext(N_("exit.neutral"))))


def _entry(c: _Ctx, notes: tuple = ()) -> None:
    st = c.st
    if st.pop("sent", None):
        notes = (*notes, N_("note.sent_after_exit"))
    if st.get("w") == "submit":
        _waiting(c)
        return
    st.pop("w", None)
    if has_draft(st) and st.get("d") in STEPS:
        st["r"] = st["d"]
        _show(c, "resume", notes)
    else:
        st.pop("r", None)
        _show(c, "start", notes)


def _overlay(c: _Ctx, step_id: str, notes: tuple = ()) -> None:
    st = c.st
    s = st["s"]
    if s == "exited" or not s:
        st["r"] = st["d"] if has_draft(st) and st.get("d") in STEPS else "start"
    elif not STEPS[s].overlay:
        st["r"] = s
    if st.get("w") != "submit":
        st.pop("w", None)
    st.pop("pc", None)
    _show(c, step_id, notes)


def _back(c: _Ctx, notes: tuple = ()) -> None:
    st = c.st
    target = st.pop("r", None)
    if not target or target not in STEPS or STEPS[target].overlay:
        target = st.get("d") if has_draft(st) and st.get("d") in STEPS else "start"
    kind = STEPS[target].kind
    if kind == "submit":
        if st.get("w") == "submit":
            _waiting(c)
            return
        target = _summary_step(st)
    _show(c, target, notes)


def _summary_step(st: dict) -> str:
    f = st.get("f")
    return {"sv": "sv.sum", "wt": "wt.sum", "dg": "dg.who"}.get(f, "start")


# --- showing prompts -------------------------------------------------------------------------


def _show(
    c: _Ctx, step_id: str, notes: tuple = (), extra: str | None = None, tag: str = A.TAG_PROMPT
) -> None:
    st = c.st
    st["s"] = step_id
    st["n"] += 1
    st.pop("hn", None)
    f = flow_of(step_id)
    if f:
        st["f"] = f
        st["d"] = step_id
    c.acts.append(_render(c, STEPS[step_id], notes, extra, tag))


def _render(
    c: _Ctx, step: Step, notes=(), extra: str | None = None, tag: str = A.TAG_PROMPT
) -> A.Send:
    tr = c.tr
    parts = [tr.gettext(n) if isinstance(n, str) else tr.gettext(n[0], **n[1]) for n in notes]
    parts += _prompt_parts(c, step, extra)
    return A.Send(
        "\n\n".join(parts),
        tuple(_options(c, step)),
        request_location=step.request_location and not c.st.get("pc"),
        request_contact=step.request_contact,
        tag=tag,
    )


def _prompt_parts(c: _Ctx, step: Step, extra: str | None = None) -> list[str]:
    tr = c.tr
    st = c.st
    kind = step.kind
    if extra is not None:
        return [extra]
    if kind == "summary":
        return [_summary_text(c), tr.gettext(N_("who.sees")), tr.gettext(N_("rc.warn"))]
    if step.id == "fu.case":
        case = st.get("case") or {}
        return [tr.gettext(N_("fu.status"), status=_status_label(tr, case.get("st")))]
    if kind == "receipt":
        return [tr.gettext(N_("rc.again"))]
    parts = [tr.gettext(p) for p in prompt_of(step, st)]
    if kind == "place":
        if st.get("pc"):
            parts = [tr.gettext(N_("place.pick"))]
        elif (st.get("a") or {}).get(step.field or "") and (st["a"][step.field] or {}).get(
            "lat"
        ) is not None:
            parts.append(tr.gettext(N_("place.have_location")))
    elif kind == "account":
        texts, media = _acc_lists(st, step)
        if texts or media:
            parts.append(_acc_count(tr, len(texts), len(media)))
    return parts


def _status_label(tr: Translator, status) -> str:
    ids = {
        "new": N_("status.new"),
        "notified": N_("status.notified"),
        "acknowledged": N_("status.acknowledged"),
        "in_progress": N_("status.in_progress"),
        "closed": N_("status.closed"),
        "transferred": N_("status.transferred"),
        "withdrawn": N_("status.withdrawn"),
    }
    unknown = N_("status.unknown")
    return tr.gettext(ids.get(status, unknown))


def _step_opts(c: _Ctx, step: Step) -> list[tuple[str, str]]:
    """(code, label) of the step's own options, translated."""
    tr = c.tr
    st = c.st
    kind = step.kind
    if step.id == "lang":
        return [(f"l_{code}", label) for code, label in languages.picker()]
    if step.id == "fix":
        rows = FIX.get(st.get("f") or "", ())
        return [(code, tr.gettext(label)) for code, label, _t in rows] + [
            ("back", tr.gettext(N_("opt.back")))
        ]
    out: list[tuple[str, str]] = []
    if kind == "multi":
        chosen = (st.get("a") or {}).get(step.field) or ()
        for o in step.options:
            mark = "✅ " if o.code in chosen else "▫️ "
            out.append((o.code, mark + tr.gettext(o.label)))
        out.append(("done", tr.gettext(N_("opt.done"))))
        if step.skip and not chosen:
            out.append(("skip", tr.gettext(N_("opt.not_sure"))))
        return out
    if kind == "place":
        pc = st.get("pc")
        if pc:
            for i, cand in enumerate(pc):
                out.append((f"c{i}", f"{cand['name']}, {cand['prov']}"[:64]))
            out.append(("none", tr.gettext(N_("place.none_of_these"))))
        else:
            place = (st.get("a") or {}).get(step.field or "")
            if place and place.get("lat") is not None:
                out.append(("keep", tr.gettext(N_("place.keep"))))
        if step.skip:
            out.append(("skip", tr.gettext(N_("opt.skip"))))
        return out
    if kind == "account":
        out.append(("done", tr.gettext(N_("opt.done"))))
        return out
    options = step.options
    if step.shown is not None:
        by_code = {o.code: o for o in step.options}
        options = tuple(by_code[x] for x in step.shown(st.get("a") or {}) if x in by_code)
    for o in options:
        out.append((o.code, tr.gettext(o.label)))
    if step.skip:
        out.append(("skip", tr.gettext(N_("opt.skip"))))
    return out


def _global_opts(tr: Translator) -> list[A.Option]:
    return [
        A.Option(A.SOS, tr.gettext(N_("opt.sos"))),
        A.Option(A.LANG, tr.gettext(N_("opt.lang"))),
        A.Option(A.EXIT, tr.gettext(N_("opt.exit"))),
    ]


def _options(c: _Ctx, step: Step | None = None) -> list[A.Option]:
    step = step or _step(c)
    tok = _tok(c.st)
    out = [A.Option(f"{tok}.{code}", label) for code, label in _step_opts(c, step)]
    out += _listen_opts(c, step) + _global_opts(c.tr)
    return out


def _reprompt(c: _Ctx, note: str | None, **kw) -> None:
    """A kind re-prompt: the note, then the current question and its options again."""
    st = c.st
    if not st["s"] or st["s"] == "exited":
        _entry(c)
        return
    if st.get("w") in _WAIT_BLOCKING:
        _waiting(c)
        return
    step = _step(c)
    if step.kind == "submit":  # not waiting any more: back to the summary
        _show(c, _summary_step(st), (note,) if note and not kw else ())
        return
    parts = [c.tr.gettext(note, **kw)] if note else []
    parts += _prompt_parts(c, step)
    c.acts.append(
        A.Send(
            "\n\n".join(parts),
            tuple(_options(c, step)),
            request_location=step.request_location and not st.get("pc"),
            request_contact=step.request_contact,
            tag=A.TAG_PROMPT,
        )
    )


def _waiting(c: _Ctx) -> None:
    st = c.st
    opts = []
    if c.ts - int(st.get("ws", c.ts)) >= WAIT_RETRY_S:
        opts.append(A.Option(f"{_tok(st)}.retry", c.tr.gettext(N_("opt.retry"))))
    opts += _global_opts(c.tr)
    c.acts.append(A.Send(c.tr.gettext(N_("wait.text")), tuple(opts), tag=A.TAG_PROMPT))


# --- choices -------------------------------------------------------------------------------


def _match_option(c: _Ctx, text: str, step: Step, numbers: bool = True) -> str | None:
    """Option data for a typed number, label or code, else None."""
    if len(text) > 80:  # no option label is that long: don't fold a whole story
        return None
    f = fold(text)
    if not f:
        return None
    opts = _options(c, step)
    if f.isdigit():
        if not numbers:
            return None
        i = int(f) if len(f) < 4 else 0
        return opts[i - 1].data if 1 <= i <= len(opts) else None
    prefix = []
    for o in opts:
        lf = _fold_label(o.label)
        code = o.data.rpartition(".")[2]
        if lf == f or (code == f and code != A.EXIT):
            return o.data
        if len(f) >= 3 and lf.startswith(f):
            prefix.append(o.data)
    return prefix[0] if len(prefix) == 1 else None


_FOLD_CACHE: dict[str, str] = {}


def _fold_label(label: str) -> str:
    v = _FOLD_CACHE.get(label)
    if v is None:
        v = fold(label)
        if len(_FOLD_CACHE) < 20000:
            _FOLD_CACHE[label] = v
    return v


def _apply_data(c: _Ctx, data: str) -> None:
    if data in A.GLOBAL_DATA:
        _global(c, data)
    else:
        _choose(c, data.partition(".")[2])


def _choose(c: _Ctx, code: str) -> None:
    st = c.st
    step = _step(c)
    w = st.get("w")
    if w in _WAIT_BLOCKING:
        if code == "retry" and c.ts - int(st.get("ws", c.ts)) >= WAIT_RETRY_S:
            _retry(c)
        else:
            _waiting(c)
        return
    kind = step.kind
    if step.id == "lang":
        lang = code[2:] if code.startswith("l_") else ""
        if lang not in LANGUAGES:
            _reprompt(c, N_("bad.choose"))
            return
        note = languages.choose(st, lang)
        c.tr = translator(st["l"])
        _back(c, (note,) if note else ())
        return
    if step.id == "fix":
        for fcode, _label, target in FIX.get(st.get("f") or "", ()):
            if fcode == code:
                st["fx"] = 1
                _goto(c, target)
                return
        if code == "back":
            _show(c, _summary_step(st))
            return
        _reprompt(c, N_("bad.choose"))
        return
    if kind == "multi":
        _choose_multi(c, step, code)
    elif kind == "place":
        _choose_place(c, step, code)
    elif kind == "account":
        if code == "done":
            _account_done(c, step)
        else:
            _reprompt(c, N_("bad.choose"))
    elif kind == "receipt":
        if code == "saved":
            c.acts.append(A.DeleteTracked(A.TAG_RECEIPT))
            _show(c, "done", (N_("rc.deleted"),))
        else:
            _reprompt(c, N_("bad.choose"))
    elif kind == "phone":
        if code == "skip":
            _answer(c, step, None, "skip")
        else:
            _reprompt(c, N_("bad.choose"))
    else:  # choice, code, summary
        if code == "skip" and step.skip:
            _answer(c, step, None, code)
            return
        for o in step.options:
            if o.code == code:
                notes = (o.note,) if isinstance(o.note, str) else (o.note or ())
                _answer(c, step, o.code, code, notes)
                return
        _reprompt(c, N_("bad.choose"))


def _answer(c: _Ctx, step: Step, value, code: str, notes: tuple = ()) -> None:
    st = c.st
    if step.field:
        a = st.setdefault("a", {})
        a[step.field] = value
        if step.stamp:
            st.setdefault("ts", {})
            st["ts"] = dict(st["ts"])
            st["ts"][step.field] = c.now.isoformat(timespec="seconds")
    _advance(c, step, code, notes)


def _advance(c: _Ctx, step: Step, code: str | None, notes: tuple = ()) -> None:
    st = c.st
    target = step.branch.get(code, step.next) if code is not None else step.next
    if target is None:
        target = "start"
    if st.get("fx") and not target.startswith("@"):
        resolved = _resolve_when(st, target)
        if (
            resolved is None
            or STEPS[resolved].group != step.group
            or STEPS[resolved].kind == "summary"
        ):
            st.pop("fx", None)
            target = _summary_step(st)
        else:
            target = resolved
    _goto(c, target, notes)


def _resolve_when(st: dict, target: str | None) -> str | None:
    a = st.get("a") or {}
    seen = 0
    while target and not target.startswith("@") and seen < 50:
        step = STEPS[target]
        if step.when and a.get(step.when[0], _MISSING) not in step.when[1]:
            target = step.next
            seen += 1
            continue
        return target
    return target


def _goto(c: _Ctx, target: str, notes: tuple = ()) -> None:
    st = c.st
    st.pop("pc", None)
    st.pop("um", None)
    if st.get("w") in ("place", "near"):  # a place search still running is moot now
        st.pop("w", None)
        st.pop("ws", None)
    if target.startswith("@"):
        if target == "@back":
            _back(c, notes)
        elif target == "@new":
            c.cmds.append(C.DeleteDraft())
            _clear_draft(st)
            _show(c, "start", notes)
        elif target == "@delete":
            _delete_all(c)
        elif target == "@stop":
            _case_command(c, "stop")
        elif target == "@withdraw":
            _case_command(c, "wd")
        return
    resolved = _resolve_when(st, target) or "start"
    if resolved.startswith("@"):
        _goto(c, resolved, notes)
        return
    step = STEPS[resolved]
    f = flow_of(resolved)
    if f and f != "dg" and has_draft(st) and st.get("f") not in (None, f) and not st.get("fx"):
        # another kind of report is half done: ask before mixing the two
        st["r"] = st.get("d")
        _show(c, "resume", notes)
        return
    if step.kind == "submit":
        _submit(c)
        return
    cur = st["s"]
    if step.overlay and cur in STEPS and not STEPS[cur].overlay:
        st["r"] = cur
    _show(c, resolved, notes)


def _clear_draft(st: dict) -> None:
    for k in ("a", "ts", "acc", "med", "f", "d", "fx", "pc", "um", "r", "w", "ws", "by"):
        st.pop(k, None)


def _delete_all(c: _Ctx) -> None:
    st = c.st
    c.cmds.append(C.DeleteDraft())
    keep = _fresh(st["l"], st["n"] + 1, c.ts)
    if "pl" in st:
        keep["pl"] = st["pl"]
    st.clear()
    st.update(keep)
    st["s"] = "exited"
    c.acts.append(A.DeleteTracked(None))
    c.acts.append(A.Send(c.tr.gettext(N_("exit.neutral"))))


# --- multi-select ------------------------------------------------------------------------------


def _choose_multi(c: _Ctx, step: Step, code: str) -> None:
    st = c.st
    a = st.setdefault("a", {})
    if code == "done":
        if a.get(step.field) is None:
            a[step.field] = []
        if step.stamp:
            st["ts"] = dict(st.get("ts") or {})
            st["ts"][step.field] = c.now.isoformat(timespec="seconds")
        _advance(c, step, "done")
        return
    if code == "skip":
        a[step.field] = []
        _advance(c, step, "skip")
        return
    codes = [o.code for o in step.options]
    if code not in codes:
        _reprompt(c, N_("bad.choose"))
        return
    chosen = list(a.get(step.field) or ())
    if code in chosen:
        chosen.remove(code)
    else:
        chosen.append(code)
    a[step.field] = [x for x in codes if x in chosen]
    text = "\n\n".join(_prompt_parts(c, step))
    c.acts.append(A.Edit(A.TAG_PROMPT, text, tuple(_options(c, step))))


# --- places -------------------------------------------------------------------------------------


def _choose_place(c: _Ctx, step: Step, code: str) -> None:
    st = c.st
    a = st.setdefault("a", {})
    place = a.get(step.field)
    pc = st.get("pc") or []
    if code.startswith("c") and code[1:].isdigit() and int(code[1:]) < len(pc):
        cand = pc[int(code[1:])]
        new = {"code": cand["code"], "name": cand["name"], "prov": cand["prov"]}
        if place and place.get("lat") is not None:
            new["lat"], new["lon"] = place["lat"], place["lon"]
        a[step.field] = new
        _advance(c, step, "pick")
    elif code == "none" and pc:
        st.pop("pc", None)
        if place and place.get("lat") is not None:
            _advance(c, step, "none")
        else:
            st["n"] += 1
            _reprompt(c, N_("place.retype"))
    elif code == "keep" and place and place.get("lat") is not None:
        _advance(c, step, "keep")
    elif code == "skip" and step.skip:
        if step.field not in a:
            a[step.field] = None
        _advance(c, step, "skip")
    else:
        _reprompt(c, N_("bad.choose"))


def _on_location(c: _Ctx, ev: E.Location) -> None:
    st = c.st
    step = _step(c)
    if step.kind != "place" or st.get("w") in _WAIT_BLOCKING:
        _reprompt(c, N_("bad.location"))
        return
    try:
        lat, lon = float(ev.lat), float(ev.lon)
    except (TypeError, ValueError):
        lat = lon = math.nan
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        _reprompt(c, N_("bad.location"))
        return
    a = st.setdefault("a", {})
    a[step.field] = {"lat": round(lat, 6), "lon": round(lon, 6)}
    st.pop("pc", None)
    if not step.confirm_location:
        _advance(c, step, "location")
        return
    c.cmds.append(C.NearestPlaces(round(lat, 6), round(lon, 6)))
    st["w"] = "near"
    st["ws"] = c.ts


def _search_place(c: _Ctx, step: Step, text: str) -> None:
    st = c.st
    q = " ".join(text.split())[:100]
    if len(fold(q)) < 2:
        _reprompt(c, N_("place.short"))
        return
    st.pop("pc", None)
    c.cmds.append(C.SearchPlace(q, st["l"]))
    st["w"] = "place"
    st["ws"] = c.ts


# --- text, contact, media -------------------------------------------------------------------


def _on_text(c: _Ctx, raw: str) -> None:
    st = c.st
    if len(raw) > MAX_TEXT * 2:  # cheap guard before normalising a huge text
        _reprompt(c, N_("bad.too_long"), limit=c.tr.format_number(MAX_TEXT))
        return
    text = nfc(raw)
    if len(text) > MAX_TEXT:
        _reprompt(c, N_("bad.too_long"), limit=c.tr.format_number(MAX_TEXT))
        return
    stripped = text.strip()
    if not stripped:
        _reprompt(c, N_("bad.empty"))
        return
    if len(stripped) <= 40 and fold(stripped) in _EXIT_WORDS:
        _exit(c)
        return
    step = _step(c)
    kind = step.kind
    if st.get("w") in _WAIT_BLOCKING:
        data = _match_option_wait(c, stripped)
        if data:
            _apply_data(c, data)
        else:
            _waiting(c)
        return
    if kind == "account":
        data = _match_option(c, stripped, step) if len(stripped) <= 20 else None
        if data:
            _apply_data(c, data)
            return
        _account_add(c, step, text=stripped)
        return
    if kind == "phone":
        phone = parse_phone(stripped)
        if phone:
            _answer(c, step, phone, "phone")
            return
        data = _match_option(c, stripped, step)
        if data:
            _apply_data(c, data)
        else:
            _reprompt(c, N_("bad.phone"))
        return
    code = parse_receipt_code(stripped) if kind != "receipt" else None
    if code:
        _lookup(c, code)
        return
    data = _match_option(c, stripped, step)
    if data:
        _apply_data(c, data)
        return
    if step.typed is not None:
        # a typed answer is kept only as the code it means; the words themselves never are
        meant = step.typed(stripped)
        if meant is not None:
            _answer(c, step, meant, meant)
            return
        if step.typed_miss:
            _reprompt(c, step.typed_miss)
            return
    if kind in ("choice", "receipt") and _in_place(c, stripped):
        return
    if kind == "place":
        _search_place(c, step, stripped)
    elif kind == "code":
        _reprompt(c, N_("bad.code"))
    elif step.unclear is not None:
        _unclear(c, step, text=stripped)
    else:
        _reprompt(c, N_("bad.choose"))


def _match_option_wait(c: _Ctx, text: str) -> str | None:
    f = fold(text)
    if f in ("1",) and c.ts - int(c.st.get("ws", c.ts)) >= WAIT_RETRY_S:
        return f"{_tok(c.st)}.retry"
    return None


def _on_contact(c: _Ctx, ev: E.Contact) -> None:
    step = _step(c)
    if step.kind != "phone" or c.st.get("w") in _WAIT_BLOCKING:
        _reprompt(c, N_("bad.contact"))
        return
    phone = parse_phone(ev.phone) if isinstance(ev.phone, str) else None
    if not phone:
        _reprompt(c, N_("bad.phone"))
        return
    _answer(c, step, phone, "phone")


def _on_media(c: _Ctx, ev: E.Media) -> None:
    step = _step(c)
    takes = step.kind == "account" or step.unclear is not None
    if not takes or c.st.get("w") in _WAIT_BLOCKING:
        _reprompt(c, N_("bad.media"))
        return
    kind = ev.kind if ev.kind in E.MEDIA_KINDS else "document"
    ref = ev.ref if isinstance(ev.ref, str) else ""
    if not ref or len(ref) > 512:
        _reprompt(c, N_("bad.media"))
        return
    if step.kind == "account":
        _account_add(c, step, media={"k": kind, "r": ref})
    else:
        _unclear(c, step, media={"k": kind, "r": ref})


def _unclear(c: _Ctx, step: Step, text: str | None = None, media: dict | None = None) -> None:
    """A message that means none of ``step``'s options (:attr:`Step.unclear`): kept with
    the account, and the question asked again; a second one in a row answers
    ``step.unclear``. A bare "no" is only asked again: it may mean "do not send"; so is a
    number that is no option's (a slip while choosing one)."""
    st = c.st
    folded = fold(text) if text is not None else ""
    if folded in _NO_WORDS or folded.isdigit():
        st.pop("um", None)
        _reprompt(c, N_("bad.choose"))
        return
    _kept(st, step, text, media)  # a full account still lets the alert go
    if st.get("um") != step.id:
        st["um"] = step.id
        _reprompt(c, N_("bad.choose"))
        return
    _answer(c, step, step.unclear, step.unclear)


# --- accounts (several messages) ------------------------------------------------------------


def _acc_keys(step: Step) -> tuple[str, str]:
    return ("fa", "fm") if step.sink == "fu" else ("acc", "med")


def _acc_lists(st: dict, step: Step) -> tuple[list, list]:
    kt, km = _acc_keys(step)
    return st.get(kt) or [], st.get(km) or []


def _acc_count(tr: Translator, n_text: int, n_media: int) -> str:
    parts = []
    if n_text:
        parts.append(tr.ngettext("acc.n_texts", "acc.n_texts_pl", n_text))
    if n_media:
        parts.append(tr.ngettext("acc.n_files", "acc.n_files_pl", n_media))
    return tr.gettext(N_("acc.received"), what=", ".join(parts))


def _kept(st: dict, step: Step, text: str | None = None, media: dict | None = None) -> bool:
    """Adds ``text`` or ``media`` to the account ``step`` writes into (:func:`_acc_keys`);
    False, adding nothing, when that would pass the account's bounds."""
    kt, km = _acc_keys(step)
    if text is not None:
        texts = list(st.get(kt) or ())
        if sum(map(len, texts)) + len(text) > MAX_ACCOUNT_TOTAL or len(texts) >= MAX_ACCOUNT_PARTS:
            return False
        st[kt] = [*texts, text]
    if media is not None:
        files = list(st.get(km) or ())
        if len(files) >= MAX_MEDIA:
            return False
        st[km] = [*files, media]
    return True


def _account_add(c: _Ctx, step: Step, text: str | None = None, media: dict | None = None):
    if not _kept(c.st, step, text, media):
        _reprompt(c, N_("acc.full"))
        return
    texts, files = _acc_lists(c.st, step)
    body = _acc_count(c.tr, len(texts), len(files)) + "\n\n" + c.tr.gettext(N_("acc.more"))
    c.acts.append(A.Send(body, tuple(_options(c, step)), tag=A.TAG_PROMPT))


def _account_done(c: _Ctx, step: Step) -> None:
    st = c.st
    if step.sink != "fu":
        _advance(c, step, "done")
        return
    texts, files = _acc_lists(st, step)
    case = st.get("case") or {}
    if not case.get("ref"):
        _goto(c, "fu.code")
        return
    if not texts and not files:
        _show(c, "fu.case", (N_("fu.nothing"),))
        return
    media = tuple({"kind": m["k"], "ref": m["r"]} for m in files)
    if step.id == "fu.add":
        c.cmds.append(C.AddToReport(case["ref"], tuple(texts), media))
        st["w"] = "add"
    else:
        c.cmds.append(C.RelayToFocal(case["ref"], tuple(texts), media))
        st["w"] = "relay"
    st["ws"] = c.ts


# --- commands with results ----------------------------------------------------------------------


def _submit(c: _Ctx) -> None:
    st = c.st
    st["s"] = "submit"
    c.cmds.append(C.SubmitReport(build_report(st, c.now)))
    st["w"] = "submit"
    st["ws"] = c.ts
    st["n"] += 1
    c.acts.append(
        A.Send(c.tr.gettext(N_("sending.text")), tuple(_global_opts(c.tr)), tag=A.TAG_PROMPT)
    )


def _lookup(c: _Ctx, code: str) -> None:
    st = c.st
    s = st["s"]
    if s and s != "exited" and not STEPS[s].overlay:
        st["r"] = s
    elif not s or s == "exited":
        st["r"] = st.get("d") if has_draft(st) else "start"
    st["s"] = "fu.code"
    st["n"] += 1
    st.pop("pc", None)
    c.cmds.append(C.LookupReceipt(code))
    st["w"] = "lookup"
    st["ws"] = c.ts


def _case_command(c: _Ctx, which: str) -> None:
    st = c.st
    ref = (st.get("case") or {}).get("ref")
    if not ref:
        _show(c, "fu.code")
        return
    if which == "stop":
        c.cmds.append(C.StopContact(ref))
    else:
        c.cmds.append(C.WithdrawCase(ref))
        c.cmds.append(C.DeleteCase(ref))
    st["w"] = which
    st["ws"] = c.ts


def _retry(c: _Ctx) -> None:
    st = c.st
    w = st.pop("w", None)
    if w == "submit":
        _submit(c)
    elif w in ("add", "relay"):
        _account_done(c, STEPS["fu.add" if w == "add" else "fu.reply"])
    elif w in ("stop", "wd"):
        _case_command(c, w)
    else:
        _show(c, "fu.code")


def _on_result(c: _Ctx, ev) -> None:
    st = c.st
    w = st.get("w")
    exited = st["s"] == "exited"
    if isinstance(ev, E.ReportSubmitted):
        if w != "submit":
            return
        flow = st.get("f")
        by = reporter_of(st)
        _clear_draft(st)  # the report now lives in storage; the receipt is the only link
        st["by"] = by  # who reported: the last screen's words are for them
        if exited:
            st["sent"] = 1  # never show the code after a quick exit
            return
        st["s"] = "receipt"
        st["n"] += 1
        text = c.tr.gettext(N_("rc.show"), code=format_receipt_code(str(ev.receipt_code)))
        if ev.to_desk:  # say where it went when the place was skipped
            note = N_("rc.desk_alert") if flow == "dg" else N_("rc.desk_report")
            text = c.tr.gettext(note) + "\n\n" + text
        c.acts.append(A.Send(text, tuple(_options(c, STEPS["receipt"])), tag=A.TAG_RECEIPT))
        return
    if isinstance(ev, E.PlaceCandidates):
        if w not in ("place", "near"):
            return
        st.pop("w", None)
        st.pop("ws", None)
        if exited or _step(c).kind != "place":
            return
        cands = []
        for cand in ev.candidates or ():
            if not isinstance(cand, dict):
                continue
            code, name = cand.get("code"), cand.get("name")
            if code is None or not name:
                continue
            cands.append(
                {
                    "code": str(code)[:32],
                    "name": nfc(str(name))[:60],
                    "prov": nfc(str(cand.get("province_name") or ""))[:40],
                }
            )
            if len(cands) >= MAX_CANDIDATES:
                break
        if cands:
            st["pc"] = cands
            st["n"] += 1
            c.acts.append(_render(c, _step(c)))
        else:
            st["n"] += 1
            _reprompt(c, N_("place.none_near") if w == "near" else N_("place.not_found"))
        return
    if isinstance(ev, E.CaseFound):
        if w != "lookup":
            return
        st.pop("w", None)
        st.pop("ws", None)
        if exited:
            return
        st["case"] = {"ref": str(ev.case_ref), "st": str(ev.status)}
        notes_text = _case_messages(c, ev.messages)
        st["s"] = "fu.case"
        st["n"] += 1
        step = STEPS["fu.case"]
        parts = _prompt_parts(c, step) + notes_text
        c.acts.append(A.Send("\n\n".join(parts), tuple(_options(c, step)), tag=A.TAG_PROMPT))
        return
    if isinstance(ev, (E.CaseNotFound, E.RateLimited)):
        if w != "lookup":
            return
        st.pop("w", None)
        st.pop("ws", None)
        if exited:
            return
        note = N_("fu.not_found") if isinstance(ev, E.CaseNotFound) else N_("fu.rate_limited")
        _show(c, "fu.code", (note,))
        return
    if isinstance(ev, (E.Done, E.Failed)) and w == "tie" and ev.name == "RelayToFocal":
        st.pop("w", None)
        st.pop("ws", None)
        if isinstance(ev, E.Failed):  # the case is gone or unheld: the receipt code says how
            st.pop("tie", None)
        note = N_("fu.relayed") if isinstance(ev, E.Done) else N_("tie.gone")
        if exited:
            return
        if st["s"]:
            _reprompt(c, note)
        else:
            _entry(c, (note,))
        return
    if isinstance(ev, (E.Done, E.Failed)):
        want = _DONE_WAIT.get(ev.name)
        if want is None or want != w:
            return
        st.pop("w", None)
        st.pop("ws", None)
        if exited:
            if isinstance(ev, E.Done) and w == "wd":
                st.pop("case", None)
            return
        failed = isinstance(ev, E.Failed)
        if w == "submit":  # Failed(SubmitReport): answers kept, offer to send again
            _show(c, _summary_step(st), (N_("note.failed"),))
        elif w in ("add", "relay"):
            if failed and ev.reason == "unheld":  # said plainly: it was not passed on
                st.pop("fa", None)
                st.pop("fm", None)
                _show(c, "fu.unheld")
            elif failed:
                _show(c, "fu.add" if w == "add" else "fu.reply", (N_("note.failed"),))
            else:
                st.pop("fa", None)
                st.pop("fm", None)
                _show(c, "fu.case", (N_("fu.added") if w == "add" else N_("fu.relayed"),))
        elif w == "stop":
            _show(c, "fu.case", (N_("note.failed") if failed else N_("fu.stopped"),))
        elif w == "wd":
            if failed:
                _show(c, "fu.case", (N_("note.failed"),))
            else:
                st.pop("case", None)
                _show(c, "fu.gone")
        elif w == "lookup":
            _show(c, "fu.code", (N_("note.failed"),))
        elif w in ("place", "near"):
            _reprompt(c, N_("note.failed"))


def _case_messages(c: _Ctx, messages) -> list[str]:
    tr = c.tr
    msgs = [m for m in (messages or ()) if isinstance(m, dict) and isinstance(m.get("text"), str)]
    if not msgs:
        return [tr.gettext(N_("fu.no_messages"))]
    shown = msgs[-MAX_SHOWN_MESSAGES:]
    out = [tr.ngettext("fu.n_messages", "fu.n_messages_pl", len(msgs))]
    for m in shown:
        when = ""
        at = m.get("at")
        if isinstance(at, str):
            try:
                dt = datetime.fromisoformat(at)
                if dt.tzinfo is not None:
                    when = tr.format_datetime(dt) + "\n"
            except ValueError:
                when = ""
        out.append(when + nfc(m["text"])[:800])
    return out


# --- news of the case, and replies in place -------------------------------------------------------


def _on_news(c: _Ctx, ev: E.CaseNews) -> None:
    """News of her case: shown unless she left with quick exit (nothing reaches that chat);
    a focal point's message ties the chat to the case, the case's close ends the tie."""
    st = c.st
    ref = ev.case_ref if isinstance(ev.case_ref, str) else ""
    tie = st.get("tie") or {}
    if ev.kind == "closed" and tie.get("ref") == ref:
        st["tie"] = {"ref": ref, "end": 1}
    if st["s"] == "exited" or not ref:
        return
    if ev.kind == "reply":
        st["tie"] = {"ref": ref, "t": c.ts}
    text = news_text(st["l"], ev.kind, text=ev.text, who=ev.who, when=ev.when)
    if st.get("w") == "submit":  # her receipt follows, with the buttons
        c.acts.append(A.Send(text))
    elif not st["s"]:
        # No screen open: the news is the screen, with the global options only (never the
        # greeting, which names the hotline on a phone that may be watched).
        st["hn"] = 1
        c.acts.append(A.Send(text, tuple(_global_opts(c.tr)), tag=A.TAG_PROMPT))
    else:
        # The screen she was on, again and newest: a number typed on a numbered channel
        # is read against that screen's options, so they must be the last ones shown.
        c.acts.append(A.Send(text))
        _reprompt(c, None)


def _home_number(c: _Ctx, text: str) -> str | None:
    """The global option a typed number picks on news shown with no screen open."""
    opts = _global_opts(c.tr)
    if text.isascii() and text.isdigit() and len(text) < 3 and 1 <= int(text) <= len(opts):
        return opts[int(text) - 1].data
    return None


def _in_place(c: _Ctx, text: str) -> bool:
    """A plain message on a screen that asks for no text, with no report being written:
    to the focal point of the case the chat is tied to; after the tie ended, a note that the
    receipt code is the way back. False: not for a tie, answer as usual."""
    st = c.st
    if has_draft(st) or st.get("w") or not st.get("tie"):
        return False
    if not tie_live(st, c.now):
        if st["s"]:
            _reprompt(c, N_("tie.gone"))
        else:
            _entry(c, (N_("tie.gone"),))
        return True
    ref = st["tie"]["ref"]
    st["tie"] = {"ref": ref, "t": c.ts}
    c.cmds.append(C.RelayToFocal(ref, (text,)))
    st["w"] = "tie"
    st["ws"] = c.ts
    return True


# --- summary --------------------------------------------------------------------------------------


def _label_of(c: _Ctx, step_id: str, code) -> str:
    for o in STEPS[step_id].options:
        if o.code == code:
            return c.tr.gettext(o.label)
    return c.tr.gettext(N_("sum.skipped"))


def _summary_text(c: _Ctx) -> str:
    st = c.st
    tr = c.tr
    a = st.get("a") or {}
    rows = SUMMARY.get(st.get("f") or "", ())
    lines = [tr.gettext(N_("sum.title"))]
    for label, field, step_id in rows:
        step = STEPS[step_id]
        if field == "@acc":
            texts, files = st.get("acc") or [], st.get("med") or []
            counts = []
            if texts:
                counts.append(tr.ngettext("acc.n_texts", "acc.n_texts_pl", len(texts)))
            if files:
                counts.append(tr.ngettext("acc.n_files", "acc.n_files_pl", len(files)))
            value = ", ".join(counts) if counts else tr.gettext(N_("sum.skipped"))
        elif field == "@danger":
            value = _danger_summary(tr, a)
        else:
            if step.when and a.get(step.when[0], _MISSING) not in step.when[1]:
                continue
            v = a.get(field)
            if v is None or v == []:
                value = tr.gettext(N_("sum.skipped"))
            elif step.kind == "multi":
                value = "; ".join(_label_of(c, step_id, x) for x in v)
            elif step.kind == "place":
                if v.get("name"):
                    value = f"{v['name']}, {v.get('prov', '')}".rstrip(", ")
                else:
                    value = tr.gettext(N_("sum.location_shared"))
            elif step.kind == "phone":
                value = str(v)
            else:
                value = _label_of(c, step_id, v)
        lines.append(f"• {tr.gettext(label)}: {value}")
    return "\n".join(lines)


def _danger_summary(tr: Translator, a: dict) -> str:
    """The danger questions on one line: the signs answered "yes", else "no" or skipped."""
    answers = [a.get(field) for field, _step, _label, _sign in DANGER_QUESTIONS]
    said = [tr.gettext(label) for _f, _s, label, _g in DANGER_QUESTIONS if a.get(_f) == "y"]
    if said:
        return "; ".join(said)
    return tr.gettext(N_("opt.no") if "n" in answers else N_("sum.skipped"))


# --- listening ("nghe") ----------------------------------------------------------------------


def _listen(c: _Ctx) -> None:
    """Turn hearing the prompts on or off, say so, and show the question again (so it is
    heard at once)."""
    st = c.st
    note = speech.LISTEN_OFF if st.pop("ear", None) else speech.LISTEN_ON
    if note == speech.LISTEN_ON:
        st["ear"] = 1
    if not st["s"] or st["s"] == "exited":
        _entry(c, (note,))
    else:
        _reprompt(c, note)


def _listen_opts(c: _Ctx, step: Step) -> list[A.Option]:
    """The "nghe" button, on the first screens only (found without reading, not on every
    question)."""
    if step.id not in speech.LISTEN_STEPS:
        return []
    label = speech.OPT_LISTEN_OFF if c.st.get("ear") else speech.OPT_LISTEN
    return [A.Option(A.LISTEN, c.tr.gettext(label))]


def _spoken(st: dict, acts: list) -> list:
    """Every message of a person who chose to listen asks the channel for its audio."""
    if not st.get("ear"):
        return acts
    return [replace(a, speak=True) if isinstance(a, A.Send) else a for a in acts]
