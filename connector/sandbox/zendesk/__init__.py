"""The Zendesk emulator."""
