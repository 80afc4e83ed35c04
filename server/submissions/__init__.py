"""Submissions: the raw ledger pulled from Central, the current state of each
submission, quarantine, and the typed tables normalized from the ledger."""
