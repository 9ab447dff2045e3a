"""Gunicorn settings of the web server: the one place for its numbers (docs/operations.md, "Web server").

Read by the web container (docker-compose.yml) and by the load benchmark (bench/bench_load.py),
which measured the defaults on 2 cores. Each can be overridden from the environment:

- WEB_WORKERS  processes (default 2: one per core of the measured 2-core machine; set it to the
  number of cores, docs/operations.md);
- WEB_THREADS  threads per process (default 1: the sync worker; more than 1 selects gthread);
- WEB_KEEPALIVE seconds an idle keep-alive connection is kept, gthread only (the sync worker
  closes every connection after its response); default 75, longer than the reverse proxy's idle
  timeout for its upstream connections, so the proxy, not gunicorn, closes them and never sends
  a request into a connection gunicorn is closing;
- WEB_TIMEOUT  seconds a sync worker may spend on one request before it is killed and restarted
  (default 60, the proxy's usual read timeout).

Nonsense (0 workers, "two", 10,000 threads) stops gunicorn at start with a message naming the
variable, instead of a server that serves nothing or exhausts the database's connections.
"""

from __future__ import annotations

import os

# (default, lowest, highest): the highest bound the database's connections, one per thread.
LIMITS = {
    "WEB_WORKERS": (2, 1, 64),
    "WEB_THREADS": (1, 1, 64),
    "WEB_KEEPALIVE": (75, 0, 3600),
    "WEB_TIMEOUT": (60, 1, 3600),
}


def _setting(name: str) -> int:
    default, lowest, highest = LIMITS[name]
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None
    if not lowest <= value <= highest:
        raise ValueError(f"{name}={value} is outside {lowest}..{highest}")
    return value


workers = _setting("WEB_WORKERS")
threads = _setting("WEB_THREADS")
# gunicorn would switch to gthread by itself when threads > 1; saying so keeps the choice visible.
worker_class = "gthread" if threads > 1 else "sync"
keepalive = _setting("WEB_KEEPALIVE")
timeout = _setting("WEB_TIMEOUT")
graceful_timeout = 30
