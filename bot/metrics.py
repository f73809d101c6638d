"""Prometheus metrics (``/metrics``, on only with ``HOTLINE_METRICS=1``).

Totals only: counts by channel or failure kind, queue depths and ages. Nothing per commune
or per province: small numbers identify people. Each app has its own registry, so several
apps in one process (tests) do not share figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.channel import RetryLater
from storage.gauges import Gauges

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "failure_kind"]


def failure_kind(exc: BaseException, refused: bool) -> str:
    """``refused`` (given up), ``rate_limited`` (429), ``retry`` (5xx, timeout, network) or
    ``error`` (anything else, e.g. the database while preparing the call)."""
    if refused:
        return "refused"
    if isinstance(exc, RetryLater):
        return "rate_limited" if exc.after is not None else "retry"
    return "error"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "hotline_updates_handled", "Inbound updates handled", ["channel"], registry=r
        )
        self.failures = Counter(
            "hotline_send_failures", "Outbox sends that failed", ["channel", "kind"], registry=r
        )
        self.ticks = Counter("hotline_escalation_ticks", "Escalation job runs", registry=r)
        self.tick_errors = Counter(
            "hotline_escalation_tick_errors", "Escalation job runs that failed", registry=r
        )
        self.outbox_depth = Gauge("hotline_outbox_depth", "Messages waiting to be sent", registry=r)
        self.outbox_age = Gauge(
            "hotline_outbox_oldest_age_seconds", "Age of the oldest waiting message", registry=r
        )
        self.escalation_lag = Gauge(
            "hotline_escalation_lag_seconds",
            "How long the earliest pending deadline is overdue (0 when none is)",
            registry=r,
        )
        self.drafts = Gauge("hotline_drafts", "Conversations in progress (total)", registry=r)
        self.cases = Gauge("hotline_cases", "Cases held (total)", registry=r)

        self._since: dict[str, int] = {}  # counts since the last summary line
        self._handled: dict[str, Any] = {}  # the updates counter of each channel

    def handled(self, channel: str) -> None:
        # The labelled counter is kept (as prometheus_client advises for hot paths): looking
        # it up again took a lock and a label check for every update.
        counter = self._handled.get(channel)
        if counter is None:
            counter = self._handled[channel] = self.updates.labels(channel=channel)
        counter.inc()
        self._count(channel)

    def send_failed(self, channel: str, kind: str) -> None:
        self.failures.labels(channel=channel, kind=kind).inc()
        self._count(f"{channel} send {kind}")

    def _count(self, what: str) -> None:
        self._since[what] = self._since.get(what, 0) + 1

    def summary(self) -> str | None:
        """What happened since the last call, as one log line of counts (``None``: nothing
        did), for a line a minute instead of one per update."""
        since, self._since = self._since, {}
        if not since:
            return None
        return ", ".join(f"{what} {count}" for what, count in sorted(since.items()))

    def ticked(self, _settled: int, error: BaseException | None) -> None:
        self.ticks.inc()
        if error is not None:
            self.tick_errors.inc()

    def render(self, figures: Gauges, now: datetime) -> bytes:
        """The exposition text, with the gauges read just now."""
        self.outbox_depth.set(figures.outbox_depth)
        oldest = figures.outbox_oldest
        self.outbox_age.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        due = figures.oldest_due
        self.escalation_lag.set(max(0.0, (now - due).total_seconds()) if due else 0.0)
        self.drafts.set(figures.drafts)
        self.cases.set(figures.cases)
        return generate_latest(self.registry)
