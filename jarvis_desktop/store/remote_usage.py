"""Remote usage meter rows (table ``remote_usage``, migration 8 in :mod:`.db`); see docs/offload.md "Cost and budget".

One row per use of a remote endpoint: ``kind`` ("chat" now; "nlu" and "stt" for the other offloads), the model,
requests, input/output tokens (the server's ``usage`` when it gave them, else estimated: ``tokens_estimated``),
wall seconds, the VM uptime the use added (``uptime_s``, per-hour pricing) and the estimated cost in US dollars.
Times are stored in UTC; :meth:`RemoteUsageStore.totals` sums a UTC interval (callers turn the user's local day or
calendar month into one). The cost itself is computed by :mod:`jarvis_desktop.monitor.costs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.schedule import to_utc_text, utc_from_text, utc_now

KINDS = ("chat", "nlu", "stt")


@dataclass(frozen=True)
class UsageRow:
    """One remote use. ``at``: aware UTC start; ``seconds``: wall time (s); ``uptime_s``: VM seconds billed for
    it; ``cost_usd``: estimated US dollars; ``ok``: False when the remote failed (a failed use still costs uptime)."""

    id: int
    at: datetime
    kind: str
    model: str
    endpoint: str
    requests: int
    input_tokens: int
    output_tokens: int
    tokens_estimated: bool
    seconds: float
    uptime_s: float
    cost_usd: float
    ok: bool

    @property
    def end(self) -> float:
        """Epoch seconds when the use ended (``at`` + ``seconds``)."""
        return self.at.timestamp() + self.seconds


@dataclass(frozen=True)
class UsageTotals:
    """Sums over an interval: requests, tokens, wall seconds, VM uptime seconds, US dollars, failed uses."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    uptime_s: float = 0.0
    cost_usd: float = 0.0
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, money rounded to 1/10000 USD."""
        return {
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "seconds": round(self.seconds, 1),
            "uptime_s": round(self.uptime_s, 1),
            "cost_usd": round(self.cost_usd, 4),
            "failed": self.failed,
        }


def _row(r: Any) -> UsageRow:
    return UsageRow(
        id=int(r["id"]),
        at=utc_from_text(r["at"]),
        kind=r["kind"],
        model=r["model"],
        endpoint=r["endpoint"],
        requests=int(r["requests"]),
        input_tokens=int(r["input_tokens"]),
        output_tokens=int(r["output_tokens"]),
        tokens_estimated=bool(r["tokens_estimated"]),
        seconds=float(r["seconds"]),
        uptime_s=float(r["uptime_s"]),
        cost_usd=float(r["cost_usd"]),
        ok=bool(r["ok"]),
    )


class RemoteUsageStore:
    """The ``remote_usage`` rows of a :class:`Database`. Thread-safe (the database's lock).

    Raises:
        BadInputError: an unknown ``kind`` or a negative figure.
        JarvisError: the database cannot be written (full disk, read-only, locked).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        kind: str,
        *,
        model: str = "",
        endpoint: str = "",
        requests: int = 1,
        input_tokens: int = 0,
        output_tokens: int = 0,
        tokens_estimated: bool = True,
        seconds: float = 0.0,
        uptime_s: float = 0.0,
        cost_usd: float = 0.0,
        ok: bool = True,
        at: datetime | None = None,
    ) -> UsageRow:
        """Store one use (``at``: its start, default now) and return it with its id."""
        if kind not in KINDS:
            raise BadInputError(f"remote usage kind must be one of {', '.join(KINDS)}, got {kind!r}")
        figures = (requests, input_tokens, output_tokens, seconds, uptime_s, cost_usd)
        if min(figures) < 0:
            raise BadInputError(f"remote usage figures cannot be negative: {figures}")
        when = to_utc_text(at or utc_now())
        rowid = self.db.insert(
            "INSERT INTO remote_usage (at, kind, model, endpoint, requests, input_tokens, output_tokens,"
            " tokens_estimated, seconds, uptime_s, cost_usd, ok) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                when,
                kind,
                model,
                endpoint,
                int(requests),
                int(input_tokens),
                int(output_tokens),
                int(tokens_estimated),
                float(seconds),
                float(uptime_s),
                float(cost_usd),
                int(ok),
            ),
        )
        return _row(self.db.query("SELECT * FROM remote_usage WHERE id = ?", (rowid,))[0])

    def last(self, billed: bool = False) -> UsageRow | None:
        """The most recent use (by start time), or None. ``billed``: only uses that answered or were charged
        uptime (a request refused by a stopped VM does not keep it running)."""
        where = " WHERE ok = 1 OR uptime_s > 0" if billed else ""
        rows = self.db.query(f"SELECT * FROM remote_usage{where} ORDER BY at DESC, id DESC LIMIT 1")
        return _row(rows[0]) if rows else None

    def rows(self, since: datetime, until: datetime | None = None) -> list[UsageRow]:
        """Uses that started in [since, until) (aware datetimes; until None = now and later), oldest first."""
        sql, params = "SELECT * FROM remote_usage WHERE at >= ?", [to_utc_text(since)]
        if until is not None:
            sql += " AND at < ?"
            params.append(to_utc_text(until))
        return [_row(r) for r in self.db.query(sql + " ORDER BY at, id", params)]

    def totals(self, since: datetime, until: datetime | None = None) -> UsageTotals:
        """Sums over the uses that started in [since, until) (one indexed range scan)."""
        sql = (
            "SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),"
            " COALESCE(SUM(seconds), 0), COALESCE(SUM(uptime_s), 0), COALESCE(SUM(cost_usd), 0),"
            " COALESCE(SUM(1 - ok), 0) FROM remote_usage WHERE at >= ?"
        )
        params = [to_utc_text(since)]
        if until is not None:
            sql += " AND at < ?"
            params.append(to_utc_text(until))
        r = self.db.query(sql, params)[0]
        return UsageTotals(int(r[0]), int(r[1]), int(r[2]), float(r[3]), float(r[4]), float(r[5]), int(r[6]))
