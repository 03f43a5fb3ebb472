"""The proxy the environment names for a URL: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` (upper or
lower case) and `NO_PROXY`, read the way curl and Python's standard library read them.

A user behind a corporate proxy sets these once for every tool; the providers and the judge
endpoint both ask here, so a model call and a judge call to the same host take the same route.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit


def proxy_for(url: str) -> str | None:
    """The proxy URL to send `url` through, or None to connect directly."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or not parts.hostname:
        return None
    # `proxy_bypass` takes `host` or `host:port` and matches NO_PROXY's hosts, domain suffixes
    # and `*`.
    if urllib.request.proxy_bypass(parts.netloc.rpartition("@")[2]):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"  # `proxy.corp:3128` means http
