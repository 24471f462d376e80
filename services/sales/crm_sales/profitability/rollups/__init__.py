"""Profitability roll-ups: figures per customer, product and rep and month, kept from sales events."""
