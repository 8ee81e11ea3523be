"""Reconcile: desired outputs against the ledger and the CRM, as a plan of writes."""
