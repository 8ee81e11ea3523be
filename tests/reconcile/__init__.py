"""Reconcile tests: the pure plan with literal inputs (builders in ``conftest``)."""
