"""The customer record's rules, pure Python (no I/O, no transport), one module per concern."""
