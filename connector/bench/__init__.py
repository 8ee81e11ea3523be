"""Benchmarks of the connector against the physical floor, each reproducible in one command.

``python -m connector.bench.pull --scale M`` measures the pull (docs/benchmarks.md).
"""
