"""The Salesforce emulator."""
