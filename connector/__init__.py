"""cs-connector: Salesforce as the customer-success cockpit, fed by Zendesk and a local rule set."""

__version__ = "0.1.0"
__all__ = ["__version__"]
