"""Audit trail: who touched which case or export, when. Append-only."""
