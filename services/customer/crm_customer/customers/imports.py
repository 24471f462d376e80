"""CSV import as a use case: chunks of rows upserted by a natural key,
each row on its own, under the same rules as every other write (the
customer service's create, update and rights)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from prometheus_client import Counter

from crm_kit.auth import Principal
from crm_kit.clock import now_ms
from crm_kit.errors import AlreadyExists, DomainError, FieldViolation, InvalidArgument, NotFound

from crm_customer.customers.model import access, editing, importing, record
from crm_customer.customers.model.record import Customer, CustomerDraft
from crm_customer.customers.service import MAX_BATCH, CustomerService

IMPORT_ROWS = Counter("crm_customer_import_rows_total", "Imported rows (dry runs excluded), by outcome.", ["outcome"])


@dataclass(frozen=True)
class ImportRow:
    """One row of an import: the values of the profile fields it sets (`paths`)."""

    row_number: int
    values: dict
    paths: tuple[str, ...]
    owner_id: str = ""


@dataclass(frozen=True)
class ImportResult:
    row_number: int
    outcome: str  # created | updated | unchanged | error
    customer_id: str = ""
    error: DomainError | None = None

    @classmethod
    def failed(cls, row: ImportRow, error: DomainError) -> "ImportResult":
        return cls(row.row_number, "error", "", error)


def _import_draft(row: ImportRow, default_region: str) -> CustomerDraft:
    """The row as a new customer: the fields it sets, defaults for the rest
    (a name is required, so `display_name` is always checked)."""
    changes, _fields = importing.import_changes(record.Profile(), row.values, list(row.paths))
    return editing.build_draft({"display_name": "", **changes}, row.owner_id, default_region)


# Rows of an import chunk are looked up and updated several at a time (each
# costs a few store round trips by `_id`); shared by all requests.
IMPORT_PROBE_ROWS = 8
_IMPORT_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="customer-import")


def _in_parallel(fn: Callable, items: list) -> list:
    """fn(item) for every item on the import pool, results in order; each
    task runs in a copy of the caller's context (request id, for the logs)."""
    futures = [_IMPORT_POOL.submit(contextvars.copy_context().run, fn, item) for item in items]
    return [future.result() for future in futures]


class CustomerImport:
    def __init__(self, customers: CustomerService):
        self.customers = customers

    def import_rows(self, principal: Principal, rows: list[ImportRow], match_on: str,
                    dry_run: bool = False) -> list[ImportResult]:
        """Upsert a chunk of imported rows, each on its own: a row matching a
        customer the caller may change updates the fields it sets; a row
        matching nothing creates a customer; anything else fails that row
        alone, having written nothing of it.

        New customers take the bulk create's path: when the first rows of a
        chunk match nobody, every row that is a complete new customer goes to
        `batch_create`, whose key-document inserts double as the lookup
        (DESIGN section 6), and only the rows it refuses are looked up. When
        they do match (a re-import, an update file), every row's key is looked
        up first, by `_id`, several at a time. Matched rows are updated through
        `update` (etag-checked, version-claimed), the rows of one customer in
        file order, different customers in parallel. A dry run looks every row
        up and writes nothing."""
        access.require_create_right(principal)
        match_on = match_on or "phone"
        if match_on not in importing.IMPORT_MATCH_FIELDS:
            raise InvalidArgument(FieldViolation("match_on", f"must be one of {', '.join(importing.IMPORT_MATCH_FIELDS)}"))
        if len(rows) > MAX_BATCH:
            raise InvalidArgument(FieldViolation("rows", f"at most {MAX_BATCH} per request"))
        results: list[ImportResult | None] = [None] * len(rows)
        keys: dict[int, str] = {}
        row_of_key: dict[str, int] = {}
        for i, row in enumerate(rows):
            try:
                importing.import_paths(list(row.paths))
                key = importing.import_match_key(row.values, match_on, self.customers.default_region)
                if key in row_of_key:
                    raise InvalidArgument(FieldViolation(
                        importing.IMPORT_MATCH_FIELDS[match_on],
                        f"the same {match_on} is on row {rows[row_of_key[key]].row_number} of this import"))
            except DomainError as err:
                results[i] = ImportResult.failed(row, err)
                continue
            row_of_key[key] = i
            keys[i] = key
        found = self._import_holders(keys, probe=not dry_run)
        if dry_run:
            planned: set[str] = set()
            for i, key in keys.items():
                results[i] = self._import_into_existing(principal, rows[i], key, None, True, found[i]) \
                    if i in found else self._import_one_dry(principal, rows[i], key, planned)
            return results
        drafts: dict[int, CustomerDraft] = {}
        create_errors: dict[int, DomainError] = {}
        for i in keys:
            if i in found:
                continue
            try:
                drafts[i] = _import_draft(rows[i], self.customers.default_region)
            except DomainError as err:  # not a complete new customer; it may still update one
                create_errors[i] = err
        for i, outcome in zip(drafts, self.customers.batch_create(principal, list(drafts.values())) if drafts else []):
            if isinstance(outcome, Customer):
                results[i] = ImportResult(rows[i].row_number, "created", outcome.id)
            else:
                create_errors[i] = outcome
        by_customer: dict[str, list[int]] = {}
        for i in keys:
            if results[i] is None:
                by_customer.setdefault(found[i].id if i in found else f"row {i}", []).append(i)

        def update_in_order(indexes: list[int]) -> None:
            for n, i in enumerate(indexes):  # after the first, re-read: the version moved on
                results[i] = self._import_into_existing(principal, rows[i], keys[i], create_errors.get(i), False,
                                                        found.get(i) if n == 0 else None)

        _in_parallel(update_in_order, list(by_customer.values()))
        for result in results:
            IMPORT_ROWS.labels(result.outcome).inc()
        return results

    def _import_holders(self, keys: dict[int, str], probe: bool) -> dict[int, Customer]:
        """{row index: the live customer holding the row's key}. With `probe`,
        a chunk whose first rows match nobody is taken for new customers and
        not looked up (the bulk key inserts find the few that do match)."""
        items = list(keys.items())
        if probe and not any(self._customer_holding(key) for _i, key in items[:IMPORT_PROBE_ROWS]):
            return {}
        holders = _in_parallel(lambda item: self._customer_holding(item[1]), items)
        return {i: customer for (i, _key), customer in zip(items, holders) if customer is not None}

    def _import_one_dry(self, principal: Principal, row: ImportRow, key: str, planned: set[str]) -> ImportResult:
        """What importing `row`, which matches nobody, would do, checked as far as reads allow."""
        try:
            customer = self.customers.new_customer(principal, _import_draft(row, self.customers.default_region))
            self.customers.check_referrer(customer)
            for k in customer.keys:
                if k in planned:
                    raise AlreadyExists("customer", k, "yours",
                                        "the same phone, e-mail or company appears twice in this import")
                holder = self._customer_holding(k)
                if holder is not None:
                    raise AlreadyExists("customer", k, *access.duplicate_relation(principal, holder.owner_id, k))
        except DomainError as err:
            return ImportResult.failed(row, err)
        planned.update(customer.keys)
        return ImportResult(row.row_number, "created")

    def _import_into_existing(self, principal: Principal, row: ImportRow, key: str,
                              error_if_none: DomainError | None, dry_run: bool,
                              current: Customer | None = None) -> ImportResult:
        """Update the customer holding `key` (`current`, or looked up now) with
        the fields the row sets, if the caller may; `error_if_none` is the
        row's answer when no customer holds it."""
        current = current or self._customer_holding(key)
        if current is None:
            return ImportResult.failed(row, error_if_none or NotFound("customer"))
        if not access.can_write(principal, current):  # another rep's (or the pool's): say so, show nothing
            return ImportResult.failed(row, AlreadyExists(
                "customer", key, *access.duplicate_relation(principal, current.owner_id, key)))
        try:
            changes, paths = importing.import_changes(current.profile, row.values, list(row.paths))
            profile = editing.apply_update(current.profile, changes, paths, self.customers.default_region)
            if editing.stamp_consent(current.profile, profile, now_ms()) == current.profile:
                return ImportResult(row.row_number, "unchanged", current.id)
            if dry_run:
                for k in record.natural_keys(profile):
                    holder = self._customer_holding(k) if k not in current.keys else None
                    if holder is not None and holder.id != current.id:
                        raise AlreadyExists("customer", k, *access.duplicate_relation(principal, holder.owner_id, k))
                return ImportResult(row.row_number, "updated", current.id)
            saved = self.customers.update(principal, current.id, changes, paths, current.etag)
        except DomainError as err:
            return ImportResult.failed(row, err)
        return ImportResult(row.row_number, "updated", saved.id)

    def _customer_holding(self, key: str) -> Customer | None:
        """The live customer a natural key belongs to, by `_id` reads only
        (a key left behind by a removed value or a crashed create is no one's)."""
        holder = self.customers.store.key_holder(key)
        customer = self.customers.live(holder.holder_id) if holder else None
        return customer if customer is not None and key in customer.keys else None


