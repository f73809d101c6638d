"""The ``hotline`` command line (typer).

Every command reads the ``HOTLINE_*`` settings. Errors print what to do, never content,
and exit non-zero.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import typer

from bot.admin.export import stats_app
from bot.logs import configure_logging
from bot.settings import get_settings
from storage.errors import StorageError

T = TypeVar("T")

app = typer.Typer(
    name="hotline",
    help="Lên Tiếng: a confidential intake hotline for gender-based violence.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(
    help="Manage the master keys that protect every report.", no_args_is_help=True
)
audit_app = typer.Typer(help="Check the tamper-evident audit log.", no_args_is_help=True)
directory_app = typer.Typer(help="Focal points and shelters.", no_args_is_help=True)
focal_app = typer.Typer(help="Bind focal points' chat accounts.", no_args_is_help=True)
i18n_app = typer.Typer(help="Translations.", no_args_is_help=True)
escalations_app = typer.Typer(help="Acknowledgement deadlines.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(directory_app, name="directory")
app.add_typer(focal_app, name="focal")
app.add_typer(i18n_app, name="i18n")
app.add_typer(escalations_app, name="escalations")
app.add_typer(stats_app, name="stats")


def _run(main: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; storage errors end the command with their message and exit 2."""
    try:
        return asyncio.run(main())
    except StorageError as exc:
        typer.echo(f"hotline: {exc}", err=True)
        raise typer.Exit(code=2) from None


@app.command()
def init() -> None:
    """Create or upgrade the database schema and create the key file (mode 0600) if none."""
    from storage.store import open_store

    settings = get_settings()

    async def main() -> None:
        store = await open_store(settings.database_url, settings.key_source())
        await store.close()

    _run(main)
    where = "HOTLINE_MASTER_KEY" if settings.master_key else str(settings.key_file)
    typer.echo(f"Database ready. Keys: {where}. Keep a backup of the keys apart from the data.")


@app.command()
def run(
    host: str | None = typer.Option(None, help="Address to listen on (default HOTLINE_HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (default HOTLINE_PORT)."),
    webhook: str | None = typer.Option(
        None, help="Public HTTPS URL of /telegram/webhook: use a webhook instead of long polling."
    ),
    zalo_webhook: str | None = typer.Option(
        None, help="Public HTTPS URL of /zalo/webhook: Zalo by webhook instead of long polling."
    ),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="Load the fictitious Đắk Lắk directory and print a focal point invite code, "
        "to play both sides on one machine.",
    ),
) -> None:
    """Start the hotline: web app and scheduler, and Telegram and Zalo when their tokens are
    set (long polling, or webhooks with --webhook / --zalo-webhook)."""
    import uvicorn

    from bot.app import create_app, server_config
    from storage.store import open_store

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port

    async def check() -> None:  # migrate and check the keys before serving anything
        store = await open_store(settings.database_url, settings.key_source())
        await store.close()

    configure_logging()
    if webhook and not settings.webhook_secret:
        typer.echo("hotline: --webhook needs HOTLINE_WEBHOOK_SECRET (the secret_token)", err=True)
        raise typer.Exit(code=2)
    if zalo_webhook and len(_zalo_secret(settings) or "") < 8:
        typer.echo(
            "hotline: --zalo-webhook needs HOTLINE_WEBHOOK_SECRET of 8+ characters", err=True
        )
        raise typer.Exit(code=2)
    _run(check)

    def show_demo(focal_point_id: str, code: str) -> None:
        typer.echo(
            f"Demo (fictitious directory): reports from Phường Buôn Ma Thuột reach focal point "
            f"{focal_point_id}; sign in at http://{host}:{port}/focal with invite code {code}",
            err=True,
        )

    web = create_app(
        settings, webhook_url=webhook, zalo_webhook_url=zalo_webhook, demo=demo, on_demo=show_demo
    )
    typer.echo(f"Lên Tiếng is listening on http://{host}:{port}/", err=True)
    uvicorn.Server(server_config(web, settings, host=host, port=port)).run()


@app.command()
def doctor(
    webhook: str | None = typer.Option(
        None, help="The --webhook URL `hotline run` is given, to check it too."
    ),
    zalo_webhook: str | None = typer.Option(
        None, help="The --zalo-webhook URL `hotline run` is given, to check it too."
    ),
) -> None:
    """Check keys, database, schema, channel tokens, webhooks, directory, queues and clock;
    print each problem with its fix; exit 1 on any error. Changes nothing."""
    from bot.doctor import ERROR, examine, format_findings

    findings = asyncio.run(
        examine(get_settings(), webhook_url=webhook, zalo_webhook_url=zalo_webhook)
    )
    typer.echo(format_findings(findings))
    if any(finding.level == ERROR for finding in findings):
        raise typer.Exit(code=1)


@app.command()
def backup(
    directory: Path = typer.Argument(..., help="A new or empty directory for this backup."),
) -> None:
    """Write a consistent snapshot of the database and, apart, the keyring sealed under a
    passphrase (asked twice, hidden) into DIRECTORY; every file mode 0600."""
    from bot import backup as backups

    settings = get_settings()
    passphrase = typer.prompt(
        "Passphrase for the key backup (12+ characters; keep it apart from the backup)",
        hide_input=True,
        confirmation_prompt=True,
    )
    manifest = _run(
        lambda: backups.backup(settings.database_url, settings.key_source(), directory, passphrase)
    )
    typer.echo(
        f"Backed up the {manifest.backend} database (schema {manifest.schema}) and the sealed "
        f"keyring to {directory}. Without the passphrase the backup cannot be read."
    )
    for old in backups.prune(directory.parent, datetime.now(UTC)):
        typer.echo(f"Deleted {old}: older than {backups.KEEP_DAYS} days (deleted cases expire).")


@app.command()
def restore(
    directory: Path = typer.Argument(..., help="A directory written by `hotline backup`."),
) -> None:
    """Put a backup back: the database snapshot replaces the database, and the keyring is
    written if there is no key file. Refuses keys that do not belong to the snapshot.
    Stop `hotline run` first."""
    from bot import backup as backups

    settings = get_settings()
    passphrase = typer.prompt("Passphrase of the key backup", hide_input=True)
    manifest = _run(
        lambda: backups.restore(settings.database_url, settings.key_source(), directory, passphrase)
    )
    typer.echo(
        f"Restored the database as of {manifest.created_at} (schema {manifest.schema}). "
        "Run `hotline init` if the code is newer, then `hotline doctor`."
    )


def _zalo_secret(settings) -> str | None:
    from bot.zalo.runner import webhook_secret

    return webhook_secret(settings)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new master key and re-wrap every data key under it (no downtime)."""
    from storage import keys
    from storage.store import open_store

    settings = get_settings()

    async def main() -> tuple[int, int]:
        store = await open_store(settings.database_url, settings.key_source(), create_key=False)
        try:
            keyring, count = await keys.rotate(store.sessions, store.source)
        finally:
            await store.close()
        return keyring.current, count

    version, count = _run(main)
    typer.echo(f"Current master key is now version {version}; {count} data keys re-wrapped.")


@keys_app.command("retire")
def keys_retire(version: int = typer.Argument(..., help="The old key version to remove.")) -> None:
    """Remove an old master key from the key file once no data uses it."""
    from storage import keys
    from storage.store import open_store

    settings = get_settings()

    async def main() -> None:
        store = await open_store(settings.database_url, settings.key_source(), create_key=False)
        try:
            await keys.retire(store.sessions, store.source, version)
        finally:
            await store.close()

    _run(main)
    typer.echo(f"Master key version {version} retired.")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole audit chain; exit 1 and name the first broken link if any."""
    from storage import audit, audit_anchor
    from storage.db import transaction
    from storage.store import open_store

    settings = get_settings()

    async def main() -> audit.Verification:
        store = await open_store(settings.database_url, settings.key_source(), create_key=False)
        anchor = audit_anchor.read(audit_anchor.anchor_path(store.source.key_file))
        try:
            async with transaction(store.sessions) as session:
                return await audit.verify(session, store.keyring, anchor)
        finally:
            await store.close()

    result = _run(main)
    if result.ok:
        typer.echo(f"Audit log intact: {result.events} events.")
        return
    typer.echo(f"Audit log BROKEN after {result.events} good events: {result.reason}", err=True)
    raise typer.Exit(code=1)


@directory_app.command("import")
def directory_import(
    focal_points: Path = typer.Argument(..., help="FOCAL_POINTS.csv (see README)."),
    shelters: Path = typer.Argument(..., help="SHELTERS.csv (see README)."),
) -> None:
    """Check both CSV files and upsert every row by id; nothing is applied if a row is bad."""
    from routing.csv_import import Rejected, parse_directory_csv
    from storage.db import transaction
    from storage.directory_store import upsert_directory
    from storage.store import open_store

    settings = get_settings()
    parsed = parse_directory_csv(focal_points, shelters, national_desk=settings.national_desk)
    for warning in parsed.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if isinstance(parsed, Rejected):
        for error in parsed.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"hotline: {len(parsed.errors)} error(s); nothing was imported", err=True)
        raise typer.Exit(code=1)
    national = settings.national_desk
    in_file = any(fp.id == national for fp in parsed.focal_points)

    async def main() -> tuple[int, int]:
        from storage.models import FocalPoint

        store = await open_store(settings.database_url, settings.key_source())
        try:
            async with transaction(store.sessions) as session:
                if national is not None and not in_file:
                    # the fallback desk named in the settings must exist to be a last rung
                    row = await session.get(FocalPoint, national)
                    if row is None or row.role != "province_desk" or not row.active:
                        return None
                return await upsert_directory(
                    session,
                    store.vault,
                    list(parsed.focal_points),
                    list(parsed.shelters),
                    now=_now(),
                )
        finally:
            await store.close()

    counts = _run(main)
    if counts is None:
        typer.echo(
            f"hotline: HOTLINE_NATIONAL_DESK={national} is no active province desk, in this "
            "file or the directory; nothing was imported",
            err=True,
        )
        raise typer.Exit(code=1)
    typer.echo(f"Imported {counts[0]} focal points and {counts[1]} shelters.")


@focal_app.command("invite")
def focal_invite(focal_point_id: str = typer.Argument(..., help="The focal point's id.")) -> None:
    """Print a one-time code the focal point sends as `/focal CODE` to the bot (72 h)."""
    code, expires = _run(lambda: _with_desk(lambda desk: desk.invite(focal_point_id, now=_now())))
    typer.echo(
        f"Invite code for {focal_point_id}: {code} (valid until {expires:%Y-%m-%d %H:%M} UTC)"
    )
    typer.echo("Give it only to that person; it works once.")


@focal_app.command("shelter-manager")
def focal_shelter_manager(shelter_id: str = typer.Argument(..., help="The shelter's id.")) -> None:
    """Print a one-time code for the shelter's manager (`/focal CODE` to the bot, 72 h): it
    keeps the shelter's occupancy from its chat or the web inbox."""
    from bot import shelter_managers
    from bot.casework import INVITE_TTL

    async def invite(desk):
        manager = await shelter_managers.add_manager(desk, shelter_id, now=_now())
        return manager, await desk.invite(manager, now=_now())

    manager, code = _run(lambda: _with_desk(invite))
    expires = _now() + INVITE_TTL
    typer.echo(
        f"Invite code for {manager} (manager of {shelter_id}): {code} "
        f"(valid until {expires:%Y-%m-%d %H:%M} UTC)"
    )
    typer.echo("Give it only to that person; it works once.")


@focal_app.command("revoke")
def focal_revoke(focal_point_id: str = typer.Argument(..., help="The focal point's id.")) -> None:
    """End every way in at once: chat account, web sessions, open invite; no new cases."""
    _run(lambda: _with_desk(lambda desk: desk.revoke(focal_point_id, now=_now())))
    typer.echo(
        f"{focal_point_id}: revoked. Chat account unbound, web sessions ended, no new cases; "
        "the open cases it held go up their ladder now. `hotline focal invite` takes it back."
    )


@escalations_app.command("list")
def escalations_list() -> None:
    """Pending deadlines: case reference, level, assignee role, due time (no content)."""
    from storage.escalation import format_deadlines, pending_deadlines
    from storage.store import open_store

    settings = get_settings()

    async def main():
        store = await open_store(settings.database_url, settings.key_source(), create_key=False)
        try:
            return await pending_deadlines(store.sessions)
        finally:
            await store.close()

    typer.echo(format_deadlines(_run(main), now=_now()))


@i18n_app.command("status")
def i18n_status() -> None:
    """Print per language the survivor texts translated and reviewed, and whether the language
    is offered as full (100% reviewed; otherwise as a support person who speaks it)."""
    from dialogs.languages import statuses

    for st in statuses():
        offered = "full" if st.full else "helper only"
        typer.echo(
            f"{st.lang:4} translated {st.translated:4}/{st.total}  "
            f"reviewed {st.reviewed:4}/{st.total}  {offered}"
        )


def _lang_or_exit(lang: str) -> str:
    from dialogs.i18n import COMPLETE, LANGUAGES

    if lang not in LANGUAGES or lang in COMPLETE:
        typer.echo(
            f"hotline: {lang!r} is not a language to translate into "
            f"({', '.join(x for x in LANGUAGES if x not in COMPLETE)})",
            err=True,
        )
        raise typer.Exit(code=2)
    return lang


async def _with_store(action):
    from storage.db import transaction
    from storage.store import open_store

    settings = get_settings()
    store = await open_store(settings.database_url, settings.key_source(), create_key=False)
    try:
        async with transaction(store.sessions) as session:
            return await action(store, session)
    finally:
        await store.close()


@i18n_app.command("token")
def i18n_token(
    lang: str = typer.Argument(..., help="The language code, e.g. rad (Ê Đê)."),
    name: str = typer.Option(..., "--name", help="The translator's name (kept sealed)."),
) -> None:
    """Issue a sign-in token for the translators' workshop (/translate), for one translator
    and one language. It is printed once; only a keyed hash of it is stored."""
    from storage import audit
    from storage import translations as store_t

    _lang_or_exit(lang)

    async def action(store, session):
        found = await store_t.issue(session, store.vault, lang, name, now=_now())
        await audit.append(
            session,
            store.keyring,
            action="i18n.token_issued",
            actor_role="admin",
            actor_id=found[0],
            at=_now(),
        )
        return found

    translator_id, token = _run(lambda: _with_store(action))
    typer.echo(f"Translator {translator_id} ({lang}). Sign-in token (shown once): {token}")
    typer.echo("Give it only to that person; `hotline i18n revoke` ends it.")


@i18n_app.command("revoke")
def i18n_revoke(
    translator_id: str = typer.Argument(..., help="The translator's id (tr-…)."),
) -> None:
    """Revoke a translator's token: its sessions end at their next request."""
    from storage import audit
    from storage import translations as store_t

    async def action(store, session):
        done = await store_t.revoke(session, translator_id, now=_now())
        if done:
            await audit.append(
                session,
                store.keyring,
                action="i18n.token_revoked",
                actor_role="admin",
                actor_id=translator_id,
                at=_now(),
            )
        return done

    if not _run(lambda: _with_store(action)):
        typer.echo("hotline: no translator with that id", err=True)
        raise typer.Exit(code=2)
    typer.echo(f"{translator_id}: revoked.")


@i18n_app.command("export")
def i18n_export(
    lang: str = typer.Argument(..., help="The language code, e.g. rad."),
    out: Path | None = typer.Option(
        None, "--out", help="Write the .po here instead of the hotline's catalog."
    ),
) -> None:
    """Write the language's .po from its catalog and the workshop: reviewed texts flagged
    `reviewed`, drafts `fuzzy` (never shown). Without --out this is the catalog the hotline
    reads (restart it to load), with the reviewed texts' recordings beside it."""
    from bot.i18n_po import export
    from storage import audit

    _lang_or_exit(lang)

    async def action(store, session):
        done = await export(session, lang, out=out, now=_now())
        await audit.append(
            session, store.keyring, action="i18n.exported", actor_role="admin", at=_now()
        )
        return done

    done = _run(lambda: _with_store(action))
    typer.echo(
        f"{done.path}: {done.reviewed} reviewed, {done.drafts} drafts from the workshop; "
        f"{len(done.audio)} recordings."
    )


@i18n_app.command("import")
def i18n_import(
    lang: str = typer.Argument(..., help="The language code, e.g. rad."),
    file: Path = typer.Argument(..., help="A .po file (from Weblate or Poedit).", exists=True),
    by: str | None = typer.Option(
        None, "--by", help="The translator (tr-…) who made the file: they cannot review it."
    ),
) -> None:
    """Read a .po into the workshop: changed texts become drafts awaiting a second
    translator's review; a `reviewed` flag is kept only for the text already reviewed."""
    from bot.i18n_po import import_po
    from storage import audit
    from storage import translations as store_t

    _lang_or_exit(lang)

    async def action(store, session):
        if by is not None and await store_t.live(session, by) is None:
            return None
        done = await import_po(session, lang, file.read_bytes(), by=by, now=_now())
        await audit.append(
            session,
            store.keyring,
            action="i18n.imported",
            actor_role="admin",
            actor_id=by,
            at=_now(),
        )
        return done

    done = _run(lambda: _with_store(action))
    if done is None:
        typer.echo("hotline: no live translator with that id (--by)", err=True)
        raise typer.Exit(code=2)
    typer.echo(
        f"{lang}: {done.drafts} drafts, {done.reviewed} reviews kept, {done.same} unchanged, "
        f"{len(done.refused)} refused, {done.unknown} unknown ids."
    )
    for msgid, why in done.refused:
        typer.echo(f"  refused {msgid}: {why}")


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def _with_desk(action):
    """Open the store, run ``action(desk)``, close; unknown focal point ids exit 2."""
    from bot.casework import INVITE_TTL, CaseworkService
    from storage.store import open_store

    settings = get_settings()
    store = await open_store(settings.database_url, settings.key_source(), create_key=False)
    try:
        desk = CaseworkService(store, {}, directory=lambda: None)
        try:
            result = await action(desk)
        except KeyError:
            typer.echo(
                "hotline: no focal point with that id (run `hotline directory import`)", err=True
            )
            raise typer.Exit(code=2) from None
        return (result, _now() + INVITE_TTL) if isinstance(result, str) else result
    finally:
        await store.close()


def main() -> None:  # pragma: no cover - console entry for `python -m bot.cli`
    app(prog_name="hotline")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
