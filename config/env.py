"""Strict readers for settings that come from the environment.

django-environ parses URLs well, but its bool/int helpers accept malformed values
silently (``DEBUG=maybe`` reads as False). A typo in production configuration must
stop the process at start, so these helpers refuse anything they do not understand.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_required(name: str, why: str) -> str:
    value = env_str(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set: {why}")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return default
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name}={value!r} has an empty item (comma-separated list expected)")
    return items


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def env_url(name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env_str(name, default)
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ImproperlyConfigured(f"{name}={value!r}: scheme must be one of {', '.join(schemes)}")
    if parts.scheme.endswith("socket") or parts.scheme == "sqlite":
        if not parts.path:
            raise ImproperlyConfigured(f"{name}={value!r} needs a path")
    elif not parts.hostname:
        raise ImproperlyConfigured(f"{name}={value!r} has no host")
    return value


CACHE_BACKEND = "core.cache.ResilientRedisCache"


def cache_url_from_broker(broker_url: str) -> str:
    """The default cache: the broker's own Redis, in the next database number (16 wraps to 0).

    ``redis+socket:///path/redis.sock`` (the embedded broker) becomes ``unix:///path/redis.sock?db=1``.
    A Sentinel broker has no single address a cache could follow: an in-process cache then, and
    deployments behind Sentinel set ``CACHE_URL`` (deploy/compose-ha.env)."""
    parts = urlsplit(broker_url.split(";")[0])
    if parts.scheme == "redis+socket":
        return f"unix://{parts.path}?db=1"
    if parts.scheme in ("redis", "rediss"):
        database = int(parts.path.strip("/") or 0)
        return urlunsplit(parts._replace(path=f"/{(database + 1) % 16}"))
    return "locmemcache://"


def cache_config(url: str, *, key_prefix: str) -> dict[str, object]:
    """``CACHES["default"]`` for a cache URL: Redis ones through ``core.cache.ResilientRedisCache``."""
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return {"BACKEND": CACHE_BACKEND, "LOCATION": url, "KEY_PREFIX": key_prefix}
    if scheme not in ("locmemcache", "dummycache"):
        raise ImproperlyConfigured(f"CACHE_URL={url!r}: scheme must be redis, rediss, unix, locmemcache or dummycache")
    return {**environ.Env.cache_url_config(url), "KEY_PREFIX": key_prefix}
