"""Health check of the web container: GET /readyz on the local gunicorn, healthy on 2xx only.

Used by the image's HEALTHCHECK (compose) and the Kubernetes readiness probe. /readyz needs the
database only: a broker outage must not take the web tier out of service (pages, submissions and
cancels all work without it), so the broker's state is in its report, not in its status code; the
whole platform's status, broker and workers included, is /healthz. It imports no Django, so it
costs a few milliseconds. Two headers keep production settings from answering something other
than the report:
- Host: Django answers 400 to a host outside ALLOWED_HOSTS, and the container's own address
  never is one, so the request names the first configured host.
- X-Forwarded-Proto: behind a TLS proxy (DJANGO_TRUST_X_FORWARDED_PROTO=true) Django trusts
  this header; without it SECURE_SSL_REDIRECT would answer 301 to a plain-http probe.
"""

from __future__ import annotations

import http.client
import os
import sys


def probe_host() -> str:
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = entry.strip().lstrip(".")  # ".example.com" also allows example.com itself
        if host and host != "*":
            return host
    return "localhost"


def main() -> int:
    port = int(os.environ.get("HEALTHCHECK_PORT", "8000"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=4)
    try:
        connection.request("GET", "/readyz", headers={"Host": probe_host(), "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        body = response.read(500).decode(errors="replace")
    except OSError as error:
        print(f"readyz: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return 0
    print(f"readyz answered {response.status}: {body}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
