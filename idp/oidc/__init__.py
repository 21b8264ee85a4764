"""oidc capability."""
