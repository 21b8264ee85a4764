"""recovery capability."""
