"""Sales expenses: a rep records them, a manager approves or rejects; an
approved expense (expense.approved) lowers its customer's net contribution."""
