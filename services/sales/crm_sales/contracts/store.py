"""Persistence of contracts in MongoDB (or FerretDB): the only module that
knows their collection and field names.

- `contracts`, `_id: "<contract id>"`: revisioned documents
  (crm_kit.persistence.revisions); each change claims `contract_versions`
  `"<id>#<revision>"` first, holding the new state, who made it and the
  events it causes (the outbox), so two writers never lose each other's
  change and the claims are the contract's history.
- `contract_erasures`, `_id: "customer:<id>"`: the customer was erased
  (crm_kit.persistence.once), set before its contracts are stripped, so a
  contract written meanwhile strips itself.
- books (crm_kit.persistence.books), insert-only lists read by `_id`:
  `customer:<id>` (a customer's contracts, in drafting order) and, for
  signed contracts, `ends:<YYYY-MM>` with `…:owner:<id>` and `…:team:<id>`
  (contracts ending in that month: everyone's, one rep's, one team's). The
  expiry check and the expiring lists walk only the months in their window,
  never every contract. Entries are never removed: `still_listed` decides
  whether one stands (the contract still ends that month, still signed,
  still listed under that owner or team).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from pymongo.database import Database

from crm_kit.money import Money
from crm_kit.persistence.books import Books, read_by_ids
from crm_kit.persistence.once import DecideOnce
from crm_kit.persistence.revisions import ABANDONED_AFTER, Revisions

from crm_sales.contracts import model as rules
from crm_sales.contracts.model import Contract, RenewalTerms
from crm_sales.customer_sales.store import marks_customers

INDEXES = {
    "contracts": [],  # by _id only
    "contract_versions": [],  # "<contract id>#<revision>", by _id only
    "contract_book_links": [],  # chain links "<book>#<n>", by _id only
    "contract_books": [],  # chain hints, by _id only
    "contract_erasures": [],  # "customer:<id>": the customer was erased (DecideOnce), by _id only
}


def customer_book(customer_id: str) -> str:
    return f"customer:{customer_id}"


def ends_book(month: str, owner_id: str = "", team_id: str = "") -> str:
    if owner_id:
        return f"ends:{month}:owner:{owner_id}"
    if team_id:
        return f"ends:{month}:team:{team_id}"
    return f"ends:{month}"


class ContractStore:
    def __init__(self, db: Database, outbox=None, abandoned_after: dt.timedelta = ABANDONED_AFTER):
        self.contracts = db["contracts"]
        self.revisions = Revisions(self.contracts, db["contract_versions"], state_field="contract", outbox=outbox,
                                   abandoned_after=abandoned_after)
        self.books = Books(db["contract_book_links"], db["contract_books"], item_field="contract_id",
                           on_new_book=marks_customers(db))
        self.erasures = DecideOnce(db["contract_erasures"])

    def insert(self, contract: Contract, changed_by: str) -> bool:
        """List it on its customer's book first (an entry without its contract is skipped), then insert."""
        self.books.add([(customer_book(contract.customer_id), contract.id, contract.created_at)])
        return self.revisions.create(_to_doc(contract), changed_by)

    def get(self, contract_id: str) -> Contract | None:
        doc = self.contracts.find_one({"_id": contract_id})
        return _from_doc(doc) if doc else None

    def commit(self, contract: Contract, changed_by: str, action: str, events: list = ()) -> bool:
        """Claim `contract.revision` (with what was done and its events), then
        write it; False when another writer won that revision."""
        return self.revisions.commit(contract.id, contract.revision, _to_doc(contract), changed_by,
                                     {"action": action}, events)

    def strip_history(self, contract_id: str, up_to_revision: int) -> None:
        """Remove the stored states (they hold the title and reasons) from
        the revision claims; who, when and what was done stay."""
        self.revisions.strip(contract_id, up_to_revision)

    def mark_erased(self, customer_id: str, now: dt.datetime) -> None:
        self.erasures.decide(f"customer:{customer_id}", {"at": now})

    def is_erased(self, customer_id: str) -> bool:
        return self.erasures.decided(f"customer:{customer_id}") is not None

    def list_ending(self, contract: Contract, since: dt.datetime) -> None:
        """Note a signed contract in the books of its end month (before the write that makes it stand)."""
        month = rules.end_month(contract)
        books = [ends_book(month), ends_book(month, owner_id=contract.owner_id)]
        if contract.team_id:
            books.append(ends_book(month, team_id=contract.team_id))
        self.books.add([(book, contract.id, since) for book in books if book])

    def of_customer(self, customer_id: str, start: int, size: int) -> tuple[list[Contract], int | None]:
        read = read_by_ids(self.contracts, _from_doc)

        def resolve(entries: list[tuple[str, dt.datetime]]) -> list[Contract | None]:
            return [c if c is not None and c.customer_id == customer_id else None for c in read(entries)]

        return self.books.page_many(customer_book(customer_id), resolve, size, start)

    def every_of_customer(self, customer_id: str) -> Iterator[Contract]:
        """Every contract of the customer, each once (an owner change walks them all)."""
        seen: set[str] = set()
        for _n, contract in self.books.walk(customer_book(customer_id), lambda cid, _since: self.get(cid)):
            if contract is not None and contract.customer_id == customer_id and contract.id not in seen:
                seen.add(contract.id)
                yield contract

    def ending_in(self, month: str, owner_id: str = "", team_id: str = "",
                  limit: int | None = None) -> tuple[list[Contract], bool]:
        """(signed contracts ending in `month`, listed under the owner or team
        when given, each once; whether the book was read to its end within
        `limit` entries)."""
        seen: set[str] = set()
        found: list[Contract] = []
        walked = 0
        for walked, contract in self.books.walk(ends_book(month, owner_id, team_id), self._resolver(month),
                                                limit=limit):
            if contract is not None and contract.id not in seen:
                seen.add(contract.id)
                if (not owner_id or contract.owner_id == owner_id) and (not team_id or contract.team_id == team_id):
                    found.append(contract)
        return found, limit is None or walked < limit

    def _resolver(self, month: str):
        def resolve(contract_id: str, _since: dt.datetime) -> Contract | None:
            c = self.get(contract_id)
            return c if c is not None and c.state == "signed" and rules.end_month(c) == month else None
        return resolve


def _day(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _to_doc(c: Contract) -> dict:
    return {
        "_id": c.id, "customer_id": c.customer_id, "owner_id": c.owner_id, "team_id": c.team_id, "title": c.title,
        "start": _day(c.start), "end": _day(c.end), "value": c.value.to_json(), "order_ids": list(c.order_ids),
        "renewal": {"auto_renew": c.renewal.auto_renew, "renewal_months": c.renewal.renewal_months,
                    "notice_days": c.renewal.notice_days},
        "state": c.state, "created_at": c.created_at, "created_by": c.created_by, "signed_at": c.signed_at,
        "signed_by": c.signed_by, "terminated_at": c.terminated_at, "termination_reason": c.termination_reason,
        "reminded_end": _day(c.reminded_end), "renewal_opportunity_id": c.renewal_opportunity_id,
        "renewal_count": c.renewal_count, "owner_since": c.owner_since, "erased_at": c.erased_at,
        "revision": c.revision,
    }


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.replace(tzinfo=dt.timezone.utc) if moment is not None and moment.tzinfo is None else moment


def _from_doc(d: dict) -> Contract:
    r = d.get("renewal") or {}
    return Contract(
        id=d["_id"], customer_id=d["customer_id"], owner_id=d.get("owner_id", ""), team_id=d.get("team_id", ""),
        title=d.get("title", ""), start=dt.date.fromisoformat(d["start"]), end=dt.date.fromisoformat(d["end"]),
        value=Money(d["value"]["minor_units"], d["value"]["currency_code"]), order_ids=tuple(d.get("order_ids", ())),
        renewal=RenewalTerms(bool(r.get("auto_renew")), int(r.get("renewal_months", 0)), int(r.get("notice_days", 0))),
        state=d["state"], created_at=_utc(d["created_at"]), created_by=d.get("created_by", ""),
        signed_at=_utc(d.get("signed_at")), signed_by=d.get("signed_by", ""),
        terminated_at=_utc(d.get("terminated_at")),
        termination_reason=d.get("termination_reason", ""),
        reminded_end=dt.date.fromisoformat(d["reminded_end"]) if d.get("reminded_end") else None,
        renewal_opportunity_id=d.get("renewal_opportunity_id", ""), renewal_count=d.get("renewal_count", 0),
        owner_since=_utc(d.get("owner_since")), erased_at=_utc(d.get("erased_at")), revision=d.get("revision", 1),
    )
