"""Product catalogue use cases: create, read, list, update, grade history,
and the price lookup orders make (`for_order`).

Transport-free: the gRPC servicer translates messages and calls these.

Rights (crm_sales.access): anyone with sales read reads the catalogue;
managers and admins change it; cost, margin, margin rate and grade are
shown to `sees_costs` roles only (the servicer omits them), and only they
filter by grade or read the grade history.

A create reserves the SKU key first (the uniqueness decision: of twenty
concurrent creates of one SKU exactly one wins, the rest get
AlreadyExists), then writes the product. An update claims the next revision
(crm_kit.persistence.revisions): concurrent updates never lose each other;
with `expected_revision` a stale one is refused instead of redone.
"""

from __future__ import annotations

from dataclasses import replace

from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.clock import now_ms
from crm_kit.errors import (AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound,
                            PermissionDenied, PreconditionViolation)
from crm_kit.ids import id_pattern, matches, new_id, not_found
from crm_kit.persistence.revisions import Contended, write_with_retries

from crm_sales import access
from crm_sales.products import model as rules
from crm_sales.products.model import GradeBand, GradeChange, Product, ProductChanges, ProductDraft
from crm_sales.products.store import ProductStore

ID_PREFIX = "prd"
PRODUCT_ID = id_pattern(ID_PREFIX)


class ProductService:
    def __init__(self, store: ProductStore, bands: tuple[GradeBand, ...], clock=now_ms):
        self.store = store
        self.bands = bands
        self.clock = clock

    @property
    def grades(self) -> tuple[str, ...]:
        return tuple(b.grade for b in self.bands)

    # --- writing ----------------------------------------------------------------

    def create(self, principal: Principal, draft: ProductDraft) -> Product:
        access.require_catalogue_right(principal)
        now = self.clock()
        product = rules.graded(Product(
            id=new_id(ID_PREFIX), sku=draft.sku, name=draft.name, unit=draft.unit, list_price=draft.list_price,
            unit_cost=draft.unit_cost, active=draft.active, revision=1, created_at=now, updated_at=now,
            updated_by=principal.subject), self.bands)
        self._reserve_sku(product)
        self.store.insert(product, principal.subject)
        return product

    def _reserve_sku(self, product: Product) -> None:
        for _ in range(2):
            holder = self.store.reserve_sku(product.sku, product.id)
            if holder is None:
                return
            if not self.store.take_over_if_stale(holder):
                break
        raise AlreadyExists("product", product.sku, "", f"a product with SKU {product.sku} exists")

    def update(self, principal: Principal, product_id: str, changes: ProductChanges,
               expected_revision: int = 0) -> Product:
        """Set what `changes` names; with `expected_revision` (> 0) only on
        that revision (FailedPrecondition when someone changed it since)."""
        access.require_catalogue_right(principal)
        changes = rules.clean_changes(changes)
        if expected_revision < 0:
            raise InvalidArgument(FieldViolation("expected_revision", "must not be negative"))

        def load() -> Product:
            return self._load(product_id)

        def change(current: Product) -> Product:
            if expected_revision and current.revision != expected_revision:
                raise FailedPrecondition(
                    [PreconditionViolation("ETAG", f"products/{product_id}",
                                           f"the product is at revision {current.revision}, "
                                           f"not {expected_revision}")],
                    "the product was changed since you read it; read it again")
            updated = rules.apply_changes(current, changes)
            if replace(updated, revision=0, updated_at=None, updated_by="") == \
                    replace(current, revision=0, updated_at=None, updated_by=""):
                return self._graded(current)  # nothing changes: no new revision
            updated = rules.graded(replace(updated, revision=current.revision + 1, updated_at=self.clock(),
                                           updated_by=principal.subject), self.bands)
            if not self.store.commit(updated, principal.subject):
                raise Contended()
            return updated

        return write_with_retries("product", product_id, load, change)

    # --- reading ----------------------------------------------------------------

    def get(self, principal: Principal, product_id: str) -> Product:
        access.require_any_read(principal)
        return self._graded(self._load(product_id))

    def list(self, principal: Principal, *, active: bool | None, grade: str, page_size: int,
             page_token: str) -> tuple[list[Product], str]:
        """The catalogue in the order products were created; `active` and
        `grade` filter (grade only for those who see costs)."""
        access.require_any_read(principal)
        if grade:
            if not access.sees_costs(principal):
                raise PermissionDenied("margin grades are shown to managers, finance and admins only")
            if grade not in self.grades:
                raise InvalidArgument(FieldViolation("grade", f"must be one of {', '.join(self.grades)}"))
        size = paging.page_size(page_size)
        query = {"active": active, "grade": grade}
        start = paging.book_start(paging.decode(page_token, query))

        def standing(product: Product | None) -> Product | None:
            if product is None:
                return None
            product = self._graded(product)
            if active is not None and product.active != active or grade and product.grade != grade:
                return None
            return product

        found, next_n = self.store.page(standing, size, start)
        return found, paging.encode({"n": next_n}, query) if next_n else ""

    def grade_history(self, principal: Principal, product_id: str) -> list[GradeChange]:
        """Each revision at which the grade changed, oldest first, as graded
        when written."""
        access.require_any_read(principal)
        if not access.sees_costs(principal):
            raise PermissionDenied("margin grades are shown to managers, finance and admins only")
        product = self._load(product_id)
        return rules.grade_history(self.store.history(product.id, product.revision))

    def for_order(self, product_ref: str) -> Product:
        """The product an order line names, by id ("prd_…") or SKU. No
        principal: pricing is not personal. NotFound when unknown,
        FailedPrecondition when inactive (no longer sold)."""
        product = self._find(product_ref)
        if product is None:
            raise NotFound("product", product_ref if _plausible_ref(product_ref) else "")
        if not product.active:
            raise FailedPrecondition([PreconditionViolation("INACTIVE", f"products/{product.id}",
                                                            "the product is no longer sold")],
                                     f"product {product.sku} is inactive")
        return self._graded(product)

    def _find(self, ref: str) -> Product | None:
        if not isinstance(ref, str) or not ref.strip():
            return None
        ref = ref.strip()
        if ref.startswith(ID_PREFIX + "_"):
            return self.store.get(ref)
        try:
            sku = rules.clean_sku(ref)
        except InvalidArgument:
            return None
        holder = self.store.sku_holder(sku)
        product = self.store.get(holder.holder_id) if holder else None
        return product if product is not None and product.sku == sku else None

    def _load(self, product_id: str) -> Product:
        product = self.store.get(product_id) if matches(PRODUCT_ID, product_id) else None
        if product is None:
            raise not_found("product", product_id, PRODUCT_ID)
        return product

    def _graded(self, product: Product) -> Product:
        """The grade under the bands in force now (the stored one is as of the write)."""
        return rules.graded(product, self.bands)


def _plausible_ref(ref: object) -> bool:
    """A product id or a well-formed SKU: what a refusal may name (never a caller's arbitrary text)."""
    if not isinstance(ref, str):
        return False
    ref = ref.strip()
    return PRODUCT_ID.match(ref) is not None or rules.SKU_PATTERN.match(ref.upper()) is not None
