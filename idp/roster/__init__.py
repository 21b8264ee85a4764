"""roster capability."""
