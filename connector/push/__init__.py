"""Push: the plan written to the outbox, then to Salesforce and Zendesk in batches."""
