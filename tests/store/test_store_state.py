"""Sync state: saved per stream, replaced on save, forgotten on clear."""

from __future__ import annotations

from connector.store import state


def test_a_stream_without_saved_state_has_none(store):
    with store.connect() as conn:
        assert state.get(conn, "contact") is None


def test_saving_state_replaces_the_previous_one(store):
    with store.begin() as conn:
        state.save(conn, "contact", {"cursor": "2025-01-01T00:00:00Z", "bulk_job": "750x"})
        state.save(conn, "contact", {"cursor": "2025-01-02T00:00:00Z"})
        state.save(conn, "account", {"cursor": "2025-01-03T00:00:00Z"})

    with store.connect() as conn:
        assert state.get(conn, "contact") == {"cursor": "2025-01-02T00:00:00Z"}
        assert state.get(conn, "account") == {"cursor": "2025-01-03T00:00:00Z"}


def test_clearing_state_forgets_only_that_stream(store):
    with store.begin() as conn:
        state.save(conn, "contact", {"cursor": "c"})
        state.save(conn, "account", {"cursor": "a"})
        state.clear(conn, "contact")

    with store.connect() as conn:
        assert (state.get(conn, "contact"), state.get(conn, "account")) == (None, {"cursor": "a"})
