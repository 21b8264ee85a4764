"""bridge capability."""
