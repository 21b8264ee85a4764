"""The shipped gunicorn settings keep emailed-link tokens out of access logs."""

from __future__ import annotations

import runpy

from idp.config import PROJECT_ROOT


def test_access_log_leaves_out_query_string_and_referer() -> None:
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    log_format = settings["access_log_format"]

    assert "%(U)s" in log_format  # the path, without the query string
    for leaking in ("%(r)s", "%(q)s", "%(f)s", "%({referer}i)s"):
        assert leaking not in log_format
