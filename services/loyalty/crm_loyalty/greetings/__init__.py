"""Care plans: birthday, anniversary and holiday greetings (issue 10, item 5)."""
