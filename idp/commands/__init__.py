"""Command groups of the `idp` command line that still live outside their capability's cli.py
(idp/cli.py registers them; issue 15.1 moves them)."""
