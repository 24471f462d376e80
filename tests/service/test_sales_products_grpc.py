"""The product catalogue over real gRPC, backed by real FerretDB: what
managers pricing products and reps quoting them rely on, rights enforced in
the sales service itself."""

from __future__ import annotations

import uuid

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.sales.v1 import product_service_pb2 as pb
from crm.sales.v1 import product_service_pb2_grpc
from crm_kit.errors import FailedPrecondition, NotFound
from crm_kit.grpc_errors import details_of
from tests.service.support import all_pages, as_in, code_of, race

TEAM = "team-catalogue"
as_ = as_in(TEAM)
REP, AGENT, FINANCE = as_("rep-cat"), as_("agent-cat", "agent"), as_("fin-cat", "finance")
MANAGER, ADMIN = as_("boss-cat", "manager"), as_("root-cat", "admin", team="")
READER = as_("erp", "integration", team="", scopes="sales:read")


@pytest.fixture(scope="module")
def products(services):
    channel = grpc.insecure_channel(services.targets["sales"])
    yield product_service_pb2_grpc.ProductServiceStub(channel)
    channel.close()


def money(minor: int, code: str = "CNY") -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code=code)


def sku() -> str:
    return f"T-{uuid.uuid4().hex[:10].upper()}"


def add(products, who=MANAGER, price=10000, cost=5000, code="CNY", cost_code=None, **fields):
    product = pb.Product(sku=fields.pop("sku", None) or sku(), name=fields.pop("name", "空调 KFR-35"),
                         list_price=money(price, code), unit_cost=money(cost, cost_code or code), active=True,
                         **fields)
    return products.CreateProduct(pb.CreateProductRequest(product=product), metadata=who)


def violations_of(fn) -> set[str]:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return {v.field for d in details_of(err.value) if hasattr(d, "field_violations") for v in d.field_violations}


def test_a_manager_adds_a_product_and_sees_margin_and_grade(products):
    made = add(products, price=10000, cost=5500, name="Кондиционер 空调", unit="台")
    assert made.id.startswith("prd_") and made.revision == 1
    assert made.name == "Кондиционер 空调" and made.unit == "台"
    assert made.margin == money(4500) and made.margin_rate_bp == 4500 and made.grade == "A"
    assert products.GetProduct(pb.GetProductRequest(id=made.id), metadata=FINANCE) == made


def test_a_product_created_without_an_active_flag_is_sold(products):
    made = products.CreateProduct(pb.CreateProductRequest(product=pb.Product(
        sku=sku(), name="滤芯", list_price=money(100), unit_cost=money(40))), metadata=MANAGER)
    assert made.active and made.unit == "each"


def test_reps_agents_and_readers_see_the_price_but_never_cost_margin_or_grade(products):
    made = add(products, price=10000, cost=7000)
    for who in (REP, AGENT, READER):
        seen = products.GetProduct(pb.GetProductRequest(id=made.id), metadata=who)
        assert seen.list_price == money(10000) and seen.sku == made.sku
        assert not seen.HasField("unit_cost") and not seen.HasField("margin")
        assert seen.margin_rate_bp == 0 and seen.grade == ""


def test_only_managers_and_admins_change_the_catalogue(products):
    made = add(products, who=ADMIN)
    for who in (REP, AGENT, FINANCE, READER):
        assert code_of(lambda: add(products, who=who)) == grpc.StatusCode.PERMISSION_DENIED
        assert code_of(lambda: products.UpdateProduct(pb.UpdateProductRequest(id=made.id, name="x"),
                                                      metadata=who)) == grpc.StatusCode.PERMISSION_DENIED
    assert products.GetProduct(pb.GetProductRequest(id=made.id), metadata=ADMIN).name == made.name


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(products):
    taken = add(products)
    assert violations_of(lambda: add(products, price=-1)) == {"list_price.minor_units"}
    assert violations_of(lambda: add(products, cost=-5)) == {"unit_cost.minor_units"}
    assert violations_of(lambda: add(products, cost_code="USD")) == {"unit_cost.currency_code"}
    assert violations_of(lambda: add(products, code="ABC", cost_code="ABC")) == \
        {"list_price.currency_code", "unit_cost.currency_code"}
    assert violations_of(lambda: add(products, sku=" ")) == {"sku"}
    assert violations_of(lambda: add(products, name="")) == {"name"}
    assert violations_of(lambda: products.CreateProduct(pb.CreateProductRequest(product=pb.Product(
        sku=sku(), name="无价")), metadata=MANAGER)) == {"list_price", "unit_cost"}
    assert violations_of(lambda: products.UpdateProduct(pb.UpdateProductRequest(
        id=taken.id, unit_cost=money(100, "USD")), metadata=MANAGER)) == {"unit_cost.currency_code"}
    assert products.GetProduct(pb.GetProductRequest(id=taken.id), metadata=MANAGER) == taken


def test_a_duplicate_sku_is_already_exists_whatever_its_case(products):
    first = add(products, sku="dup-" + uuid.uuid4().hex[:8])
    assert code_of(lambda: add(products, sku=first.sku.lower())) == grpc.StatusCode.ALREADY_EXISTS


def test_concurrent_creates_of_one_sku_yield_exactly_one_product(products):
    contested = sku()
    outcomes = race(12, lambda i: add(products, sku=contested, name=f"竞争 {i}"))
    made = [o for o in outcomes if isinstance(o, pb.Product)]
    assert len(made) == 1
    assert outcomes.count(grpc.StatusCode.ALREADY_EXISTS) == 11
    listed = all_pages(lambda t: products.ListProducts(pb.ListProductsRequest(page_token=t, page_size=200),
                                                       metadata=MANAGER), "products")
    assert [p.id for p in listed if p.sku == contested] == [made[0].id]


def test_the_grade_follows_price_and_cost_and_its_history_is_kept(products):
    made = add(products, price=10000, cost=5000)          # 50 %: A
    assert made.grade == "A"
    cheaper = products.UpdateProduct(pb.UpdateProductRequest(id=made.id, list_price=money(8000)),
                                     metadata=MANAGER)   # 37.5 %: B
    assert (cheaper.grade, cheaper.margin_rate_bp, cheaper.revision) == ("B", 3750, 2)
    renamed = products.UpdateProduct(pb.UpdateProductRequest(id=made.id, name="新名字"), metadata=MANAGER)
    assert renamed.grade == "B" and renamed.revision == 3
    loss = products.UpdateProduct(pb.UpdateProductRequest(id=made.id, unit_cost=money(9000)),
                                  metadata=ADMIN)       # sold at a loss: the last grade
    assert (loss.grade, loss.margin) == ("D", money(-1000))
    history = products.GetProductGradeHistory(pb.GetProductGradeHistoryRequest(id=made.id),
                                              metadata=FINANCE).changes
    assert [(c.revision, c.grade, c.list_price.minor_units, c.unit_cost.minor_units) for c in history] == \
        [(1, "A", 10000, 5000), (2, "B", 8000, 5000), (4, "D", 8000, 9000)]
    assert [c.changed_by for c in history] == ["boss-cat", "boss-cat", "root-cat"]
    assert code_of(lambda: products.GetProductGradeHistory(pb.GetProductGradeHistoryRequest(id=made.id),
                                                           metadata=REP)) == grpc.StatusCode.PERMISSION_DENIED


def test_an_update_on_a_stale_revision_is_refused(products):
    made = add(products)
    products.UpdateProduct(pb.UpdateProductRequest(id=made.id, name="先改", expected_revision=1), metadata=MANAGER)
    assert code_of(lambda: products.UpdateProduct(pb.UpdateProductRequest(
        id=made.id, name="后改", expected_revision=1), metadata=MANAGER)) == grpc.StatusCode.FAILED_PRECONDITION
    assert products.GetProduct(pb.GetProductRequest(id=made.id), metadata=MANAGER).name == "先改"


def test_concurrent_price_changes_each_take_a_revision(products):
    made = add(products)
    race(6, lambda i: products.UpdateProduct(pb.UpdateProductRequest(id=made.id, list_price=money(20000 + i)),
                                             metadata=MANAGER))
    final = products.GetProduct(pb.GetProductRequest(id=made.id), metadata=MANAGER)
    assert final.revision == 7 and 20000 <= final.list_price.minor_units < 20006


def test_the_catalogue_lists_by_active_flag_and_grade(products):
    a = add(products, price=10000, cost=1000)
    d = add(products, price=10000, cost=9500)
    off = add(products, price=10000, cost=1000)
    products.UpdateProduct(pb.UpdateProductRequest(id=off.id, active=False), metadata=MANAGER)

    def listed(who=MANAGER, **query):
        return {p.id for p in all_pages(lambda t: products.ListProducts(pb.ListProductsRequest(
            page_token=t, page_size=3, **query), metadata=who), "products")}

    assert {a.id, d.id} <= listed(active=True) and off.id not in listed(active=True)
    assert off.id in listed(active=False) and a.id not in listed(active=False)
    grade_a = listed(grade="A")
    assert a.id in grade_a and off.id in grade_a and d.id not in grade_a
    assert {a.id, d.id, off.id} <= listed(REP)
    assert code_of(lambda: products.ListProducts(pb.ListProductsRequest(grade="A"), metadata=REP)) == \
        grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: products.ListProducts(pb.ListProductsRequest(grade="Z"), metadata=MANAGER)) == \
        grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def catalogue(services):
    """The products feature as orders call it in-process, on the running service's store."""
    from crm_kit.mongo import connect
    from crm_sales.products.model import DEFAULT_GRADES, parse_grade_bands
    from crm_sales.products.service import ProductService
    from crm_sales.products.store import ProductStore
    db = connect(services.mongodb_uri, "test-sales-products")[services.sales_db_name]
    return ProductService(ProductStore(db), parse_grade_bands(DEFAULT_GRADES))


def test_orders_find_a_product_by_id_or_sku_and_never_an_inactive_one(products, catalogue):
    made = add(products)
    assert catalogue.for_order(made.id).sku == made.sku
    assert catalogue.for_order(made.sku.lower()).id == made.id
    with pytest.raises(NotFound):
        catalogue.for_order("NO-SUCH-SKU-" + uuid.uuid4().hex[:6])
    products.UpdateProduct(pb.UpdateProductRequest(id=made.id, active=False), metadata=MANAGER)
    with pytest.raises(FailedPrecondition):
        catalogue.for_order(made.id)


def test_an_unknown_product_is_not_found(products):
    assert code_of(lambda: products.GetProduct(pb.GetProductRequest(id="prd_nothere"), metadata=REP)) == \
        grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: products.UpdateProduct(pb.UpdateProductRequest(id="prd_nothere", name="x"),
                                                  metadata=MANAGER)) == grpc.StatusCode.NOT_FOUND
