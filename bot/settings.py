"""Settings from environment variables with the prefix ``HOTLINE_`` (DESIGN §2).

Every setting is optional: with none set, the hotline runs on an SQLite file and a
generated key file in the working directory, with the web chat on localhost.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.keys import KeySource


class Settings(BaseSettings):
    """The hotline's configuration, read from ``HOTLINE_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./hotline.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…",
    )
    key_file: Path = Field(default=Path("./hotline.key"), description="Keyring file (mode 0600)")
    master_key: SecretStr | None = Field(
        default=None, description="Keyring given in the environment instead of a key file"
    )
    telegram_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    webhook_secret: SecretStr | None = None
    zalo_token: SecretStr | None = None
    zalo_api_base: str = "https://bot-api.zaloplatforms.com"
    # Zalo's webhook secret; HOTLINE_WEBHOOK_SECRET is used when this is not set.
    zalo_webhook_secret: SecretStr | None = None
    redis_url: str | None = None
    # Province officers' statistics tokens: "officer:province|*:sha256,…" (hotline stats token)
    admin_tokens: SecretStr | None = None
    host: str = "127.0.0.1"
    # Prometheus metrics at /metrics (totals only); off unless HOTLINE_METRICS=1.
    metrics: bool = False
    port: int = 8080
    # Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated IPs or
    # networks). Empty: no forwarded header is believed, the peer's address is the client's.
    trusted_proxies: str = ""
    # Serves /openapi.json; off in production, where the schema only helps an attacker.
    debug: bool = False

    # Outbox pacing under Telegram's limits: about 30 messages/s per bot, 1/s per chat
    # (a short burst per chat is allowed, so a two-message reply is not held back).
    send_rate_global: float = 25.0
    send_rate_chat: float = 1.0
    send_burst_chat: float = 3.0
    # First retry delay after a 5xx or a network error; it doubles with each attempt.
    send_backoff_s: float = 0.5
    # A worker that dies mid-send leaves its rows leased this long; then another sends them.
    send_lease_s: float = 15.0

    # Service levels for acknowledging a referral, in minutes (DESIGN §4).
    sla_immediate_minutes: int = 10
    sla_high_minutes: int = 60
    sla_normal_minutes: int = 24 * 60
    # The id of a province desk that is the last rung of provinces without a desk of their
    # own; without it the directory import refuses such a province.
    national_desk: str | None = None
    # A conversation's draft expires after this many hours untouched and is shredded.
    draft_ttl_hours: int = 72
    # Closed cases are kept this many days, then deleted and crypto-shredded.
    retention_days: int = 90
    # Reporting deadlines, day/month every year ("25/11,30/5"): each province desk is
    # reminded once, a week before each (routing.deadlines). Empty: no reminders.
    stats_deadlines: str = "25/11,30/5"
    # A worker re-reads the key file this often (at most 20 s; and on SIGHUP) to follow a
    # key rotation; `hotline keys retire` waits until every running worker has.
    key_file_refresh_s: float = 10.0

    def key_source(self) -> KeySource:
        """Where the keyring comes from: ``HOTLINE_MASTER_KEY`` if set, else the key file."""
        env = self.master_key.get_secret_value() if self.master_key else None
        return KeySource(self.key_file, env)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once from the environment)."""
    return Settings()
