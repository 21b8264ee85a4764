"""lifecycle capability."""
