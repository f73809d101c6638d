"""The risk check and the safety plan on a case's card in the web inbox (bot.case_plan).

Rendered inside the card: the last check's result and, unless read-only, its questions
(yes / no / don't know, the last answers chosen); the safety plan's fields, editable.
Nothing here decides: the answers go to :func:`bot.case_plan.check_risk`, whose rule is
:mod:`dialogs.risk`."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from bot import case_plan
from dialogs import focal_texts as T
from dialogs import risk
from dialogs.i18n import DEFAULT, translator
from dialogs.web_texts import FOCAL
from routing.duty import LOCAL_TZ

LANG = DEFAULT


def _t(name: str, **values: Any) -> str:
    return translator(LANG).gettext(FOCAL[name], **values)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _when(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(LOCAL_TZ)
    return f'<time datetime="{_e(aware.isoformat(timespec="minutes"))}">{local:%H:%M %d/%m}</time>'


async def card_html(session, desk, case, hidden: str, readonly: bool) -> str:
    """The risk check and the safety plan of ``case``; forms unless ``readonly``."""
    plan = await case_plan.read(session, desk, case)
    tr = translator(LANG)
    result = (
        f'<p class="risk{" high" if plan.screened_in else ""}">'
        f"{_e(T.risk_line(LANG, risk.yes(plan.answers)))} · {_when(plan.checked_at)}</p>"
        if plan.checked
        else f'<p class="risk none">{_e(_t("risk_none"))}</p>'
    )
    check = ""
    if not readonly:
        rows = []
        for code, question, _label in risk.QUESTIONS:
            chosen = plan.answers.get(code, "unknown")
            choices = "".join(
                f'<label class="check"><input type="radio" name="risk_{code}" value="{a}"'
                f"{' checked' if a == chosen else ''}> {_e(_t('answer_' + a))}</label>"
                for a in risk.ANSWERS
            )
            rows.append(
                f'<fieldset class="question"><legend>{_e(tr.gettext(question))}</legend>'
                f"{choices}</fieldset>"
            )
        check = (
            "<details><summary>" + _e(_t("risk")) + "</summary>"
            '<form method="post" action="/focal/act" class="block risk">'
            f'{hidden}<input type="hidden" name="action" value="risk">'
            f'<p class="hint">{_e(_t("risk_hint"))}</p>' + "".join(rows) + "<button "
            f'type="submit">{_e(_t("risk_save"))}</button></form></details>'
        )
    shown = [
        f"<dt>{_e(tr.gettext(label))}</dt><dd>{_e(plan.safety[code])}</dd>"
        for code, label in risk.PLAN_FIELDS
        if plan.safety.get(code)
    ]
    summary = (
        f'<dl class="plan">{"".join(shown)}</dl>'
        if shown
        else f'<p class="plan none">{_e(_t("plan_none"))}</p>'
    )
    edit = ""
    if not readonly:
        fields = "".join(
            f"<label>{_e(tr.gettext(label))}"
            f'<textarea name="plan_{code}" rows="2" maxlength="{risk.PLAN_MAX}">'
            f"{_e(plan.safety.get(code, ''))}</textarea></label>"
            for code, label in risk.PLAN_FIELDS
        )
        edit = (
            "<details><summary>" + _e(_t("plan")) + "</summary>"
            '<form method="post" action="/focal/act" class="block plan">'
            f'{hidden}<input type="hidden" name="action" value="plan">'
            f'<p class="hint">{_e(_t("plan_hint"))}</p>{fields}'
            f'<button type="submit">{_e(_t("plan_save"))}</button></form></details>'
        )
    return f"<h3>{_e(_t('risk'))}</h3>{result}{check}<h3>{_e(_t('plan'))}</h3>{summary}{edit}"


def answers_of(form: dict[str, list[str]]) -> dict[str, str]:
    """The risk check's answers in a posted form."""
    return {code: (form.get(f"risk_{code}") or [""])[0][:8] for code in risk.CODES}


def plan_of(form: dict[str, list[str]]) -> dict[str, str]:
    """The safety plan's fields in a posted form."""
    return {
        code: (form.get(f"plan_{code}") or [""])[0][: risk.PLAN_MAX] for code in risk.PLAN_CODES
    }
