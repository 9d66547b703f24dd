"""Reports: anonymous statistics, contacts, overtime and expenses (issue 13)."""
