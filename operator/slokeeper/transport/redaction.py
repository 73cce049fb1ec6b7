"""Credentials out of text that comes from outside: a Prometheus', Alertmanager's or proxy's error
body, an exception's message. The Prometheus and Alertmanager clients pass every such text
through ``redact`` before it becomes an exception message, so none reaches status, Events or logs.

What goes: the secrets the client was configured with (as written, URL-encoded, and as the
base64 of a basic-auth ``user:password``), whatever follows ``Bearer `` or ``Basic `` (any case),
the value of an ``Authorization`` header quoted back, and the user part of a URL.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Protocol, runtime_checkable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

REDACTED = "[redacted]"

_SCHEME = re.compile(r"\b(bearer|basic)(\s+)\S+", re.IGNORECASE)
_HEADER = re.compile(r"(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}]+", re.IGNORECASE)
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


@runtime_checkable
class Credentials(Protocol):
    """An auth object that can say which secrets it sends (to be kept out of messages)."""

    def secrets(self) -> tuple[str, ...]: ...


def basic_auth_secrets(username: str, password: str) -> tuple[str, ...]:
    """The password and the header value that carries it, ``base64(user:password)``."""
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return (password, pair)


def url_secrets(url: str) -> tuple[str, ...]:
    """The password of a ``scheme://user:password@host`` URL, if it has one."""
    password = urlsplit(url).password
    return (password, unquote(password)) if password else ()


def without_credentials(url: str) -> str:
    """The URL as it may be shown: ``https://user:secret@host/`` becomes ``https://host/``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every credential it may carry replaced by ``[redacted]``."""
    forms = {form for secret in secrets if secret for form in (secret, quote(secret, safe=""))}
    for secret in sorted(forms, key=len, reverse=True):  # a longer one may contain a shorter
        text = text.replace(secret, REDACTED)
    text = _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
