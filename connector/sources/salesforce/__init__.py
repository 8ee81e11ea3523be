"""Salesforce as a source: the client (logins, pages, Bulk jobs, errors) and the streams."""

from connector.sources.salesforce.auth import SalesforceLogin
from connector.sources.salesforce.client import SalesforceClient
from connector.sources.salesforce.streams import SalesforceSource

__all__ = ["SalesforceClient", "SalesforceLogin", "SalesforceSource"]
