"""Targets in the sales database: one revisioned document per rep or team,
month and currency (`_id` "rep:<id>|2026-03|CNY", so every read is by
`_id`); its claims (`sales_target_claims`) keep who changed it and when.
Two managers setting one target at once: one wins each revision, the other
re-reads and writes over it (last writer wins, nothing is half written)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from pymongo.database import Database

from crm_kit.persistence.revisions import ABANDONED_AFTER, Contended, Revisions, write_with_retries

from crm_sales.profitability.months import Month
from crm_sales.profitability.targets.model import Goals, Target, target_key

INDEXES: dict = {"sales_targets": [], "sales_target_claims": []}


def _target(doc: dict) -> Target:
    at = doc.get("updated_at")
    return Target(doc["scope"], doc["subject_id"], doc.get("team_id", ""), Month.parse(doc["month"]),
                  doc["currency"], Goals(int(doc["revenue"]), int(doc["margin"]), int(doc["cash"])),
                  int(doc.get("revision", 1)), at.replace(tzinfo=timezone.utc) if at and at.tzinfo is None else at,
                  doc.get("updated_by", ""))


class TargetStore:
    def __init__(self, db: Database, abandoned_after: timedelta = ABANDONED_AFTER):
        self.revisions = Revisions(db["sales_targets"], db["sales_target_claims"], state_field="target",
                                   abandoned_after=abandoned_after)

    def get(self, scope: str, subject_id: str, month: Month, currency: str) -> Target | None:
        doc = self.revisions.documents.find_one({"_id": target_key(scope, subject_id, month, currency)})
        return _target(doc) if doc else None

    def months(self, scope: str, subject_id: str, months: list[Month], currency: str) -> dict[Month, Target]:
        """One `_id` read per month (at most 36)."""
        return {m: t for m in months if (t := self.get(scope, subject_id, m, currency)) is not None}

    def put(self, target: Target, changed_by: str, check: Callable[[Target | None], None]) -> Target:
        """Store `target` over whatever stands; `check(current)` re-checks the
        caller's right on every fresh read (raises to refuse)."""
        key = target.key

        def load() -> dict | None:
            return self.revisions.documents.find_one({"_id": key})

        def change(current: dict | None) -> Target:
            check(_target(current) if current else None)
            revision = (int(current.get("revision", 1)) if current else 0) + 1
            now = datetime.now(timezone.utc)
            state = {"_id": key, "scope": target.scope, "subject_id": target.subject_id, "team_id": target.team_id,
                     "month": str(target.month), "currency": target.currency, "revenue": target.goals.revenue,
                     "margin": target.goals.margin, "cash": target.goals.cash, "updated_at": now,
                     "updated_by": changed_by, "revision": revision}
            stored = self.revisions.create(state, changed_by) if revision == 1 else \
                self.revisions.commit(key, revision, state, changed_by)
            if not stored:
                raise Contended()
            return _target(state)

        return write_with_retries("target", key, load, change)
