"""Adapters that read the source APIs into ``Row`` pages; they never touch the store."""
