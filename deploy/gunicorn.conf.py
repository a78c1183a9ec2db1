"""Gunicorn settings for Neuvo: ``gunicorn -c deploy/gunicorn.conf.py "kb:create_app()"``.

Command-line flags override these, and so does ``GUNICORN_CMD_ARGS`` (for example
``GUNICORN_CMD_ARGS="--workers 3 --bind 0.0.0.0:8000"`` in a container);
docs/deployment.md explains the choices.
"""
import os

#: nginx on the same machine talks to gunicorn over loopback; nothing else should reach it.
bind = "127.0.0.1:8000"

#: Plain synchronous workers: each request holds a worker, and nginx buffers slow clients,
#: so a few processes serve a help center. 2 x cores + 1 is gunicorn's rule of thumb; each
#: worker also holds its own searcher and suggester model (about 250 MB with the demo
#: shop, more with a large one), so mind the memory on small machines. WEB_CONCURRENCY
#: (gunicorn's own variable) overrides the count.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 8)))
worker_class = "sync"

#: Requests normally take milliseconds. The long ones are a suggester fit (seconds) and
#: the first search on a server without any index, which rebuilds it from the database
#: (about 5 s of CPU per thousand articles): run `neuvo init` before starting gunicorn,
#: and the worker keeps the index up to date, so visitors never wait for that.
timeout = 60
#: Time for a worker to finish its request on restart (SIGHUP) or stop (SIGTERM).
graceful_timeout = 30
#: nginx keeps upstream connections alive (``keepalive`` in deploy/nginx.conf).
keepalive = 5

#: Recycle workers now and then so that slow leaks never pile up; the jitter stops
#: them all restarting at once.
max_requests = 2000
max_requests_jitter = 200

#: Off: each worker builds the app itself after the fork. create_app() is cheap, and
#: the large per-process state (searcher, fitted model, database connections) is
#: opened lazily in each worker anyway, so preloading would save little memory; it
#: would, however, share the SQLAlchemy engine across the fork and stop SIGHUP from
#: loading new code after an upgrade.
preload_app = False

#: Trust X-Forwarded-Proto (https) only from the reverse proxy. The client address
#: for rate limits comes from X-Forwarded-For through NEUVO_TRUSTED_PROXIES=1.
forwarded_allow_ips = "127.0.0.1,::1"

#: The heartbeat file lives in memory, not on a (possibly slow or full) disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

#: To standard error: systemd's journal (or the container runtime) collects it.
accesslog = "-"
errorlog = "-"
loglevel = "info"
#: No query strings in the access log: searches and order look-ups are the visitors' own.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'

#: Refuse oversized request lines and headers early (the app limits bodies itself).
limit_request_line = 8190
limit_request_fields = 100
