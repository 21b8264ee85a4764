"""staff capability."""
