"""Profitability (issue 9): which customers, products and reps make the
company money.

Features, one sub-package each:
- rollups: revenue, cost of goods, margin, attributed expenses, net
  contribution, order count and collected cash per customer, product and rep
  and month, kept from sales events (rebuildable from the stores), and the
  contribution reports read from them (ProfitabilityService);
- grades: customer value grades over last year's contribution;
- targets: monthly targets per rep and team, attainment and rankings;
- commission: commission by margin grade, monthly statements, the close step;
- expenses: a rep's sales expenses and their approval;
- daily_reports: a rep's daily report and who has not submitted.

`months` holds the calendar month every feature counts in (the business
time zone, settings SALES_TIMEZONE, decides a timestamp's month).
"""
