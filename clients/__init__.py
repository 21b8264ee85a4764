"""Relying parties of the provider: one TOML registration per app, and the sample portal app."""
