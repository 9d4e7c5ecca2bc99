"""Secrets never printed: passwords in URLs are masked in banners and in
every log line, whoever wrote it (a driver's error may quote its URL)."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit, urlunsplit

_PASSWORD_IN_URL = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@"
)


def masked(url: str) -> str:
    """`url` with its password replaced by ***, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def mask_passwords(text: str) -> str:
    """Every `scheme://user:password@` in `text`, with the password as ***."""
    return _PASSWORD_IN_URL.sub(r"\g<head>***@", text)


class MaskPasswords(logging.Filter):
    """A handler filter: the formatted message, passwords masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = mask_passwords(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def mask_passwords_in_logs() -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskPasswords())
