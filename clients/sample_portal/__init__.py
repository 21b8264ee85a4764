"""The sample portal: a small relying party of the provider, run as two apps (Grades on port
5001, Attendance on 5002) by `python -m clients.sample_portal --app grades|attendance`.

A sample, not a product: sessions live in one process's memory (sessions.py).
"""

from clients.sample_portal.app import create_portal
from clients.sample_portal.settings import PortalSettings

__all__ = ["PortalSettings", "create_portal"]
