"""`python -m clients.sample_portal --app grades`: serve one sample portal app.

The app reads its registration (clients/<app>.toml) for its client id, name, redirect URI
(hence its port) and the environment variable of its secret, which `make run` sets.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from clients.sample_portal.app import create_portal
from clients.sample_portal.settings import CLIENTS_DIR, PortalConfigError, from_registration

DEFAULT_ISSUER = "http://127.0.0.1:5000"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m clients.sample_portal", description=__doc__)
    parser.add_argument("--app", choices=("grades", "attendance"), required=True)
    parser.add_argument(
        "--issuer",
        default=os.environ.get("IDP_ISSUER", DEFAULT_ISSUER),
        help="the provider's issuer URL (default: $IDP_ISSUER, else %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve the app on the host and port of its registered redirect URI until Ctrl+C."""
    args = parse_args(argv)
    # A fresh key per start: sessions live in this process only (a sample), so nothing is lost.
    secret_key = secrets.token_urlsafe(32)
    try:
        settings = from_registration(
            CLIENTS_DIR / f"{args.app}.toml", os.environ, args.issuer, secret_key
        )
    except PortalConfigError as error:
        print(f"sample portal: {error}", file=sys.stderr)
        return 2
    where = urlsplit(settings.base_url)
    server = make_server(
        where.hostname or "127.0.0.1", where.port or 80, create_portal(settings), threaded=True
    )
    print(f"{settings.title} (sample portal app) on {settings.base_url}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
