"""Cells written for spreadsheets (CSV exports of the CLI and the gateway).

A spreadsheet runs a cell that begins with `=`, `+`, `-`, `@`, a tab or a
carriage return as a formula (CSV injection). An export puts a single quote
before such a cell (OWASP's advice; Excel shows the text without the quote),
and before a cell that begins with a quote followed by one of those or by
another quote, so `restore_formula` gives every value back exactly.
"""

from __future__ import annotations

FORMULA_START = frozenset("=+-@\t\r")  # a spreadsheet evaluates such a cell


def neutralize_formula(cell: str) -> str:
    """The cell as written to an export: a quote first when a spreadsheet
    would take it for a formula, or when the import would drop its own
    leading quote (so `restore_formula` gives the value back exactly)."""
    if cell and (cell[0] in FORMULA_START or cell[0] == "'" and len(cell) > 1
                 and (cell[1] in FORMULA_START or cell[1] == "'")):
        return "'" + cell
    return cell


def restore_formula(cell: str) -> str:
    """An import cell without the quote `neutralize_formula` (or a person
    typing in Excel) put before `= + - @ tab CR` or a quote."""
    if len(cell) > 1 and cell[0] == "'" and (cell[1] in FORMULA_START or cell[1] == "'"):
        return cell[1:]
    return cell
