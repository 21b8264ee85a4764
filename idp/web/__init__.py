"""The web layer: blueprints, forms, templates, sessions (wired by idp.web.setup)."""
