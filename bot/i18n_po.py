"""``hotline i18n export`` and ``import``: the workshop's translations to and from ``.po``.

How reviewed texts reach the running hotline: the hotline reads only the catalogs
(``locales/<lang>/LC_MESSAGES/messages.po``). ``hotline i18n export LANG`` writes the catalog
from the catalog itself and the workshop's database: a reviewed text with ``#, reviewed``, a
draft with ``#, fuzzy`` (never shown), and the reviewed texts' recordings as
``locales/<lang>/audio/<id>.<hash>.rec.ogg``. A draft never replaces a reviewed text in the
catalog: the survivor keeps the reviewed words until the new ones are reviewed. ``--out``
writes the file elsewhere (for Weblate or Poedit) and leaves the catalog alone.

Import (a file back from Weblate or Poedit): every changed text becomes a **draft** in the
workshop, attributed to the translator given with ``--by`` (so that person cannot review
it). ``#, reviewed`` in a file is kept only for the very text already reviewed (in the
workshop or the catalog): a file cannot create a review, so every review is a second
translator's, made in the workshop where that rule is checked
(:func:`dialogs.workshop.may_review`). Export then import changes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.ogg_remux import to_ogg
from dialogs import i18n, speech
from dialogs import workshop as W
from dialogs.i18n import REVIEWED
from storage import translations as store_t
from storage.models import Translation

FUZZY = "fuzzy"


def _key(msg) -> str:
    return msg.id[0] if isinstance(msg.id, (tuple, list)) else msg.id


def _forms(msg) -> tuple[str, ...]:
    if isinstance(msg.string, (tuple, list)):
        return tuple(i18n._norm(s) for s in msg.string)  # noqa: SLF001
    return (i18n._norm(msg.string),) if msg.string else ()  # noqa: SLF001


def read_catalog(path: Path):
    with path.open("rb") as fh:
        return read_po(fh, locale=None, domain=i18n.DOMAIN)


def _reviewed_in(msg) -> bool:
    return REVIEWED in msg.flags and not msg.fuzzy and bool(_forms(msg)) and all(_forms(msg))


def merge(cat, rows: dict[str, Translation]) -> list[Translation]:
    """Put the workshop's translations into the catalog ``cat``; returns the rows given."""
    given = []
    for msg in cat:
        if not msg.id:
            continue
        row = rows.get(_key(msg))
        if row is None:
            continue
        forms = store_t.forms_of(row)
        if row.state != W.REVIEWED and _reviewed_in(msg) and _forms(msg) != forms:
            continue  # a draft waits in the workshop; the survivor keeps the reviewed text
        msg.string = forms if isinstance(msg.id, (tuple, list)) else forms[0]
        if row.state == W.REVIEWED:
            msg.flags.discard(FUZZY)
            msg.flags.add(REVIEWED)
        else:
            msg.flags.discard(REVIEWED)
            msg.flags.add(FUZZY)
        given.append(row)
    return given


def write_audio(lang: str, rows: list[Translation]) -> dict[str, str]:
    """The reviewed texts' recordings of their current words, as Ogg Opus files beside the
    catalog (older recordings of the same text removed). Returns ``{text id: file}`` written;
    a recording that cannot be remuxed stays pending in the workshop."""
    folder = i18n.locales_dir() / lang / speech.AUDIO_DIR
    written: dict[str, str] = {}
    for row in rows:
        if row.state != W.REVIEWED or not row.audio:
            continue
        digest = speech.text_hash(store_t.forms_of(row)[0])
        if row.audio_hash != digest:
            continue  # a recording of older words is never played for new ones
        data = row.audio if row.audio_type == "audio/ogg" else to_ogg(row.audio)
        if data is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{row.msgid}.*{speech.RECORDED}{speech.SUFFIX}"):
            old.unlink()
        name = f"{row.msgid}.{digest}{speech.RECORDED}{speech.SUFFIX}"
        (folder / name).write_bytes(data)
        written[row.msgid] = name
    speech.clear_cache()
    return written


@dataclass
class Exported:
    path: Path
    reviewed: int = 0
    drafts: int = 0
    audio: list[str] = field(default_factory=list)


async def export(
    session: AsyncSession, lang: str, *, out: Path | None = None, now: datetime
) -> Exported:
    """Write ``lang``'s catalog (or ``out``) from the catalog and the workshop."""
    rows = await store_t.all_of(session, lang)
    cat = read_catalog(i18n.po_path(lang))
    given = merge(cat, rows)
    target = out or i18n.po_path(lang)
    i18n.write_catalog(cat, lang, target)
    done = Exported(target)
    done.reviewed = sum(1 for r in given if r.state == W.REVIEWED)
    done.drafts = len(given) - done.reviewed
    if out is None:  # the hotline's own catalog: what it reads now
        heard = write_audio(lang, given)
        done.audio = sorted(heard.values())
        for row in given:
            store_t.mark_exported(row, audio=row.msgid in heard)
            session.add(row)
        i18n.clear_cache()
    return done


@dataclass
class Imported:
    same: int = 0
    drafts: int = 0
    reviewed: int = 0  # reviews kept (of texts already reviewed)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (text id, why)
    unknown: int = 0  # ids this hotline does not have


async def import_po(
    session: AsyncSession, lang: str, data: bytes, *, by: str | None, now: datetime
) -> Imported:
    """Read a ``.po`` for ``lang`` into the workshop (see the module's rules)."""
    done = Imported()
    cat = read_po(io.BytesIO(data), locale=None, domain=i18n.DOMAIN)
    live = read_catalog(i18n.po_path(lang))
    rows = await store_t.all_of(session, lang)
    nplurals = W.nplurals(lang)
    vi = i18n.translator("vi")
    for msg in cat:
        if not msg.id:
            continue
        msgid = _key(msg)
        info = workshop_text(msgid)
        if info is None:
            done.unknown += 1
            continue
        forms = _forms(msg)
        if not forms or not all(forms):
            continue  # nothing translated: nothing to import
        problems = W.check(forms, info, nplurals)
        if problems:
            first = problems[0]
            done.refused.append((msgid, vi.gettext(first.msgid, names=first.names, n=first.names)))
            continue
        reviewed = False
        if _reviewed_in(msg):
            row = rows.get(msgid)
            in_catalog = live.get(msg.id)
            reviewed = (
                row is not None and row.state == W.REVIEWED and store_t.forms_of(row) == forms
            ) or (
                in_catalog is not None and _reviewed_in(in_catalog) and _forms(in_catalog) == forms
            )
        what = await store_t.import_entry(
            session, lang, msgid, forms, reviewed=reviewed, by=by, now=now
        )
        if what == "same":
            done.same += 1
        elif what == "reviewed":
            done.reviewed += 1
        else:
            done.drafts += 1
    return done


@cache
def workshop_texts() -> tuple[W.TextInfo, ...]:
    """Every text of the shipped template as the workshop shows it (read once, like the
    catalogs, and again when they are: :func:`dialogs.i18n.clear_cache`)."""
    from dialogs.languages import survivor_texts

    template = read_catalog(i18n.locales_dir() / f"{i18n.DOMAIN}.pot")
    rows = []
    for msg in template:
        if not msg.id:
            continue
        plural_id = msg.id[1] if isinstance(msg.id, (tuple, list)) else None
        rows.append((_key(msg), plural_id, tuple({f for f, _line in msg.locations})))
    return tuple(
        W.texts(rows, i18n.loaded("vi").messages, i18n.loaded("en").messages, survivor_texts())
    )


@cache
def _by_id() -> dict[str, W.TextInfo]:
    return {info.msgid: info for info in workshop_texts()}


def workshop_text(msgid: str) -> W.TextInfo | None:
    """One text of :func:`workshop_texts`, or None."""
    return _by_id().get(msgid)


def _clear() -> None:
    workshop_texts.cache_clear()
    _by_id.cache_clear()


i18n._ON_CLEAR.append(_clear)  # noqa: SLF001
