"""Daily reports of reps (issue 9, item 6): see model.py for the rules."""
