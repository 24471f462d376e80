"""Commission by margin grade: plans, earning on collected cash, monthly
statements and the close (see model.py for every rule)."""
