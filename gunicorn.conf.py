"""gunicorn settings read from the project folder (gunicorn loads ./gunicorn.conf.py itself).

Access log lines leave out the query string and the Referer: emailed links carry their token
in the query string (`/verify-email?token=...`), and a token must never reach a log.
"""

# The default format's "%(r)s" (request line) and "%(f)s" (Referer) would hold the query string.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'
