"""credentials capability."""
