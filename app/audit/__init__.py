"""The audit log, read side: list and show entries (writing lives in app.core.audit)."""
