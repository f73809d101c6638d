"""``hotline doctor``: what an operator gets wrong, each with how to fix it.

The checks are small functions over facts (``check_*``, no I/O); :func:`examine` gathers
the facts read-only (it never migrates, creates a key or writes a row) and runs them.
Findings name settings, files, commune and province codes, never content or tokens.
"""

from __future__ import annotations

import asyncio
import stat
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.settings import Settings
from routing.duty import DutyHoursError, parse_duty_hours
from storage import gauges, keys, migrate
from storage.db import is_sqlite, make_engine, make_sessionmaker
from storage.errors import KeyFileError
from storage.keyring import Keyring
from storage.models import FocalPoint

ERROR, WARNING, OK = "error", "warning", "ok"

# Thresholds (warnings): a queue that does not drain, a deadline nobody claims.
OUTBOX_BACKLOG = 200
OUTBOX_OLDEST = timedelta(minutes=5)
ESCALATION_LAG = timedelta(minutes=2)  # the escalation job runs every second
CLOCK_SKEW_WARN = timedelta(seconds=5)
CLOCK_SKEW_ERROR = timedelta(seconds=60)
TIMEOUT_S = 10.0
LISTED = 10  # codes named in one finding at most


@dataclass(frozen=True)
class Finding:
    level: str  # error | warning | ok
    check: str
    message: str
    fix: str = ""


def _error(check: str, message: str, fix: str) -> Finding:
    return Finding(ERROR, check, message, fix)


def _warning(check: str, message: str, fix: str) -> Finding:
    return Finding(WARNING, check, message, fix)


def _listed(codes: Iterable[str]) -> str:
    codes = sorted(codes)
    more = f" and {len(codes) - LISTED} more" if len(codes) > LISTED else ""
    return ", ".join(codes[:LISTED]) + more


# -- checks (no I/O) ------------------------------------------------------------------------


def check_key_mode(path: str, mode: int) -> Finding:
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return _error(
            "key file",
            f"{path} can be read by other users (mode {stat.S_IMODE(mode):o})",
            f"chmod 600 {path}",
        )
    return Finding(OK, "key file", f"{path} is private (mode 600)")


def check_schema(current: str | None, head: str) -> Finding:
    if current == head:
        return Finding(OK, "schema", f"at the newest migration ({head})")
    where = "empty (no schema)" if current is None else f"at {current}, the code expects {head}"
    return _error("schema", f"the database schema is {where}", "run `hotline init` (it migrates)")


def check_key_match(problems: list[str]) -> Finding:
    if problems:
        return _error(
            "keys match database",
            problems[0],
            "point HOTLINE_KEY_FILE at the key file that belongs to this database "
            "(restore it from the key backup); never generate a new one over data",
        )
    return Finding(OK, "keys match database", "the keyring opens this database's data keys")


def check_webhook(channel: str, url: str, secret: str | None, min_secret: int = 1) -> Finding:
    name = f"{channel} webhook"
    if urlsplit(url).scheme != "https":
        return _error(
            name,
            f"the {channel} webhook URL is not https",
            "serve the hotline behind a reverse proxy with TLS and give its https:// URL",
        )
    if not secret or len(secret) < min_secret:
        variable = (
            "HOTLINE_WEBHOOK_SECRET"
            if channel == "Telegram"
            else ("HOTLINE_ZALO_WEBHOOK_SECRET (or HOTLINE_WEBHOOK_SECRET)")
        )
        return _error(
            name,
            f"the {channel} webhook has no secret token of {min_secret}+ characters",
            f"set {variable} to a long random value, e.g. `openssl rand -hex 32`",
        )
    return Finding(OK, name, "https with a secret token")


@dataclass(frozen=True)
class FocalRow:
    """The plaintext of a directory row that the checks need."""

    province_code: str
    commune_code: str | None
    role: str
    active: bool
    duty_hours: str


def check_directory(rows: list[FocalRow]) -> list[Finding]:
    """Every province with focal points has an active province desk (the last rung); warns
    of communes with no active focal point on duty at any time of the week."""
    if not rows:
        return [
            _warning(
                "directory",
                "the directory has no focal points: reports can reach nobody",
                "run `hotline directory import FOCAL_POINTS.csv SHELTERS.csv`",
            )
        ]
    provinces = {row.province_code for row in rows}
    desks = {row.province_code for row in rows if row.role == "province_desk" and row.active}
    findings = []
    if provinces - desks:
        findings.append(
            _error(
                "province desks",
                f"province(s) {_listed(provinces - desks)} have focal points but no active "
                "province desk, the last rung of every escalation",
                "add a `province_desk` row for each to FOCAL_POINTS.csv and run "
                "`hotline directory import`",
            )
        )
    else:
        findings.append(Finding(OK, "province desks", f"{len(provinces)} province(s) covered"))
    on_duty: dict[str, bool] = defaultdict(bool)
    for row in rows:
        if row.role == "province_desk" or row.commune_code is None:
            continue
        on_duty[row.commune_code] |= row.active and _has_hours(row.duty_hours)
    uncovered = [code for code, covered in on_duty.items() if not covered]
    if uncovered:
        findings.append(
            _warning(
                "commune duty",
                f"commune(s) {_listed(uncovered)} have no active focal point on duty at any "
                "time this week: their reports go straight to the province desk",
                "check those rows' `duty_hours` and activity in FOCAL_POINTS.csv and import",
            )
        )
    else:
        findings.append(Finding(OK, "commune duty", f"{len(on_duty)} commune(s) staffed"))
    return findings


def _has_hours(text_: str) -> bool:
    try:
        return bool(parse_duty_hours(text_).intervals)
    except DutyHoursError:
        return False


def check_outbox(depth: int, oldest: datetime | None, now: datetime) -> Finding:
    age = now - oldest if oldest is not None else timedelta(0)
    if depth > OUTBOX_BACKLOG or age > OUTBOX_OLDEST:
        return _warning(
            "outbox",
            f"{depth} message(s) wait to be sent, the oldest for {_minutes(age)}",
            "check that `hotline run` is running with valid channel tokens, and its log "
            "lines starting with `outbox:`",
        )
    return Finding(OK, "outbox", f"{depth} message(s) waiting")


def check_escalations(oldest_due: datetime | None, now: datetime) -> Finding:
    if oldest_due is not None and now - oldest_due > ESCALATION_LAG:
        return _warning(
            "escalations",
            f"an escalation deadline is overdue by {_minutes(now - oldest_due)}: no worker "
            "is claiming deadlines",
            "start `hotline run` (every worker runs the escalation job); "
            "`hotline escalations list` shows what waits",
        )
    return Finding(OK, "escalations", "no overdue deadline")


def check_clock(skew: timedelta) -> Finding:
    size = abs(skew.total_seconds())
    message = f"this machine's clock is {size:.0f} s {'ahead of' if skew > timedelta(0) else 'behind'} the database's"
    fix = "run NTP on both machines (e.g. `timedatectl set-ntp true`): deadlines depend on it"
    if abs(skew) > CLOCK_SKEW_ERROR:
        return _error("clock", message, fix)
    if abs(skew) > CLOCK_SKEW_WARN:
        return _warning("clock", message, fix)
    return Finding(OK, "clock", "agrees with the database")


def _minutes(age: timedelta) -> str:
    return f"{age.total_seconds() / 60:.0f} min"


# -- gathering facts (read-only I/O) -----------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC)


def key_findings(settings: Settings) -> tuple[list[Finding], Keyring | None, str]:
    """The key file's presence, mode and format; returns the keyring when it loads."""
    if settings.master_key is not None:
        origin = "HOTLINE_MASTER_KEY"
        found: list[Finding] = [Finding(OK, "key file", "keys come from HOTLINE_MASTER_KEY")]
    else:
        path = settings.key_file
        origin = f"the key file {path}"
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            return (
                [
                    _error(
                        "key file",
                        f"no key file at {path}",
                        "restore it from the key backup (`hotline restore`), set "
                        "HOTLINE_KEY_FILE to where it is, or on a new install run `hotline init`",
                    )
                ],
                None,
                origin,
            )
        found = [check_key_mode(str(path), mode)]
        if found[0].level == ERROR:
            return found, None, origin
    try:
        return found, settings.key_source().load(), origin
    except KeyFileError as exc:
        return (
            [_error("key file", str(exc), "restore the key file from the key backup")],
            None,
            origin,
        )


async def _database_findings(
    settings: Settings, keyring: Keyring | None, origin: str, clock: Callable[[], datetime]
) -> list[Finding]:
    missing = _missing_sqlite_file(settings.database_url)
    if missing:
        return [
            _error(
                "database",
                f"no database file at {missing}",
                "run `hotline init`, or set HOTLINE_DATABASE_URL to the database",
            )
        ]
    engine = make_engine(settings.database_url)
    try:
        try:
            async with asyncio.timeout(TIMEOUT_S):
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure: not reachable
            return [
                _error(
                    "database",
                    f"the database does not answer ({type(exc).__name__})",
                    "check HOTLINE_DATABASE_URL and that the database server runs and "
                    "accepts this user",
                )
            ]
        findings = [Finding(OK, "database", "reachable")]
        findings.append(await _clock_finding(engine, clock))
        schema = check_schema(await migrate.current_revision(engine), migrate.head_revision())
        findings.append(schema)
        if schema.level == ERROR:
            return findings
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            if keyring is not None:
                findings.append(
                    check_key_match(await keys.keyring_problems(session, keyring, origin))
                )
            rows = (
                await session.exec(
                    select(
                        FocalPoint.province_code,
                        FocalPoint.commune_code,
                        FocalPoint.role,
                        FocalPoint.active,
                        FocalPoint.duty_hours,
                    )
                )
            ).all()
            findings += check_directory([FocalRow(*row) for row in rows])
            now, figures = clock(), await gauges.read(session)
            findings.append(check_outbox(figures.outbox_depth, figures.outbox_oldest, now))
            findings.append(check_escalations(figures.oldest_due, now))
        return findings
    finally:
        await engine.dispose()


def _missing_sqlite_file(url: str) -> str | None:
    """An SQLite file that does not exist (connecting would create an empty one)."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or Path(database).exists():
        return None
    return database


async def _clock_finding(engine, clock: Callable[[], datetime]) -> Finding:
    query = (
        "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"
        if is_sqlite(str(engine.url))
        else "SELECT CURRENT_TIMESTAMP"
    )
    before = clock()
    async with engine.connect() as connection:
        database_now = gauges.as_aware((await connection.execute(text(query))).scalar_one())
    after = clock()
    local = before + (after - before) / 2
    return check_clock(local - database_now)


async def _telegram_findings(settings: Settings, webhook_url: str | None) -> list[Finding]:
    import httpx

    if settings.telegram_token is None:
        return [Finding(OK, "Telegram", "no HOTLINE_TELEGRAM_TOKEN: Telegram is off")]
    base = (
        f"{settings.telegram_api_base.rstrip('/')}/bot{settings.telegram_token.get_secret_value()}"
    )
    fix = (
        "check HOTLINE_TELEGRAM_TOKEN (from @BotFather, `/token`) and that "
        "HOTLINE_TELEGRAM_API_BASE is reachable from this machine"
    )
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            me = await client.get(f"{base}/getMe")
            info = await client.get(f"{base}/getWebhookInfo") if me.status_code == 200 else None
    except httpx.HTTPError as exc:
        return [_error("Telegram", f"the Bot API did not answer ({type(exc).__name__})", fix)]
    if me.status_code != 200:
        return [_error("Telegram", f"getMe was refused (HTTP {me.status_code})", fix)]
    findings = [Finding(OK, "Telegram", "the token answers getMe")]
    registered = ""
    if info is not None and info.status_code == 200:
        registered = (info.json().get("result") or {}).get("url") or ""
    url = webhook_url or registered
    if url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        findings.append(check_webhook("Telegram", url, secret))
    return findings


async def _zalo_findings(settings: Settings, webhook_url: str | None) -> list[Finding]:
    from bot.zalo.client import ZaloClient, ZaloError
    from bot.zalo.runner import MIN_SECRET, webhook_secret

    if settings.zalo_token is None:
        return [Finding(OK, "Zalo", "no HOTLINE_ZALO_TOKEN: Zalo is off")]
    fix = (
        "check HOTLINE_ZALO_TOKEN (Zalo Bot Manager) and that HOTLINE_ZALO_API_BASE is "
        "reachable from this machine"
    )
    try:
        async with ZaloClient(
            settings.zalo_token.get_secret_value(), settings.zalo_api_base, timeout=TIMEOUT_S
        ) as client:
            await client.get_me()
            registered = (await client.get_webhook_info()).get("url") or ""
    except (ZaloError, ValueError) as exc:
        return [
            _error(
                "Zalo", f"getMe failed ({exc if isinstance(exc, ZaloError) else 'bad token'})", fix
            )
        ]
    findings = [Finding(OK, "Zalo", "the token answers getMe")]
    url = webhook_url or registered
    if url:
        findings.append(check_webhook("Zalo", url, webhook_secret(settings), MIN_SECRET))
    return findings


async def examine(
    settings: Settings,
    *,
    webhook_url: str | None = None,
    zalo_webhook_url: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> list[Finding]:
    """Every finding, in the order an operator should fix them."""
    findings, keyring, origin = key_findings(settings)
    findings += await _database_findings(settings, keyring, origin, clock)
    findings += await _telegram_findings(settings, webhook_url)
    findings += await _zalo_findings(settings, zalo_webhook_url)
    return findings


def format_findings(findings: list[Finding]) -> str:
    labels = {ERROR: "ERROR", WARNING: "WARN ", OK: "ok   "}
    lines = []
    for finding in findings:
        lines.append(f"{labels[finding.level]} {finding.check}: {finding.message}")
        if finding.fix and finding.level != OK:
            lines.append(f"      fix: {finding.fix}")
    errors = sum(1 for f in findings if f.level == ERROR)
    warnings = sum(1 for f in findings if f.level == WARNING)
    lines.append(f"{errors} error(s), {warnings} warning(s).")
    return "\n".join(lines)
