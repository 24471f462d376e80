"""Product rules: derived margin and margin rate, grading bands and their
configuration, the grade history read from revisions."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crm_kit.errors import InvalidArgument
from crm_kit.money import Money
from crm_kit.settings import SettingsError
from crm_sales.products import model as rules
from crm_sales.products.model import GradeBand, Product, ProductChanges

BANDS = rules.parse_grade_bands("A:4000,B:2500,C:1000,D:0")


def product(price: int, cost: int, code: str = "CNY", revision: int = 1) -> Product:
    return rules.graded(Product("prd_x", "SKU-1", "空调", "台", Money(price, code), Money(cost, code), True,
                                revision), BANDS)


def test_margin_and_rate_are_derived_and_the_rate_is_rounded_down():
    p = product(30000, 18001)
    assert p.margin == Money(11999, "CNY")
    assert p.margin_rate_bp == 3999  # 39.9966 %: never rounded up into grade A
    assert p.grade == "B"


@pytest.mark.parametrize("price,cost,grade", [
    (10000, 6000, "A"),   # exactly 40 %: the band's lower bound belongs to it
    (10000, 6001, "B"),
    (10000, 7500, "B"),
    (10000, 7501, "C"),
    (10000, 9000, "C"),
    (10000, 9001, "D"),
    (10000, 10000, "D"),  # no margin
    (10000, 25000, "D"),  # a loss: below every band is the last grade
    (0, 0, "D"),          # a free product has no rate
])
def test_every_rate_falls_in_exactly_one_band(price, cost, grade):
    assert product(price, cost).grade == grade


def test_a_loss_far_beyond_the_price_is_clamped_and_still_the_last_grade():
    p = product(1, 10**15)
    assert p.margin_rate_bp == rules.MIN_RATE_BP and p.grade == "D"


def test_bands_whose_last_bound_is_above_zero_still_grade_everything():
    bands = rules.parse_grade_bands("TOP:5000,LOW:2000")
    assert rules.grade_for(1999, 100, bands) == "LOW" and rules.grade_for(-500, 100, bands) == "LOW"
    assert rules.grade_for(5000, 100, bands) == "TOP"


@pytest.mark.parametrize("raw", ["", "A", "A:40%", "A:4000", "A:4000,A:1000", "A:1000,B:2000", "A:2000,B:2000",
                                 "A:20000,B:0", "A:-1,B:-5", "A 4000,B 0"])
def test_bad_grade_settings_are_refused_at_start_up_naming_the_variable(raw):
    with pytest.raises(SettingsError, match="SALES_MARGIN_GRADES"):
        rules.parse_grade_bands(raw)


def test_grade_settings_parse_best_first():
    assert rules.parse_grade_bands(" A:4000 , B:2500,C:0") == (GradeBand("A", 4000), GradeBand("B", 2500),
                                                               GradeBand("C", 0))


def test_a_draft_needs_sku_name_and_prices_in_one_currency():
    with pytest.raises(InvalidArgument) as err:
        rules.build_draft(sku="", name=" ", unit="", list_price=Money(-1, "CNY"), unit_cost=Money(5, "CNY"))
    assert {v.field for v in err.value.violations} == {"sku", "name", "list_price.minor_units"}
    with pytest.raises(InvalidArgument) as err:
        rules.build_draft(sku="a-1", name="x", unit="", list_price=Money(1, "CNY"), unit_cost=Money(1, "EUR"))
    assert [v.field for v in err.value.violations] == ["unit_cost.currency_code"]
    draft = rules.build_draft(sku=" a-1 ", name="Ｘ", unit="", list_price=Money(1, "CNY"), unit_cost=Money(1, "CNY"))
    assert (draft.sku, draft.unit) == ("A-1", "each")


def test_changing_one_side_into_another_currency_is_refused_both_together_allowed():
    current = product(10000, 5000)
    with pytest.raises(InvalidArgument) as err:
        rules.apply_changes(current, rules.clean_changes(ProductChanges(list_price=Money(100, "USD"))))
    assert [v.field for v in err.value.violations] == ["list_price.currency_code"]
    moved = rules.apply_changes(current, rules.clean_changes(
        ProductChanges(list_price=Money(1500, "USD"), unit_cost=Money(700, "USD"))))
    assert moved.list_price.currency_code == moved.unit_cost.currency_code == "USD"


def test_an_update_naming_nothing_is_refused():
    with pytest.raises(InvalidArgument):
        rules.clean_changes(ProductChanges())


def test_grade_history_keeps_the_revisions_where_the_grade_moved():
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    states = [(1, product(10000, 5000), at, "m"), (2, product(10000, 5500), at, "m"),
              (3, product(10000, 8000), at, "m"), (4, product(10000, 5000), at, "m")]
    assert [(c.revision, c.grade) for c in rules.grade_history(states)] == [(1, "A"), (3, "C"), (4, "A")]
