"""Zendesk pulls: our own pager over the incremental exports, and the streams built on it."""

from connector.sources.zendesk.client import CallStats, ZendeskClient, ZendeskLogin
from connector.sources.zendesk.streams import ZendeskSource

__all__ = ["CallStats", "ZendeskClient", "ZendeskLogin", "ZendeskSource"]
