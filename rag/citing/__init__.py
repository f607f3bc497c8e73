"""Citing: sentences and citation markers parsed, statements attributed to passages, junk dropped."""
