"""API keys out of log text: the value of every ContactAPIkey or developerAPIkey parameter becomes ``***``.

Names match as the API matches them: case-insensitively, and after
percent-decoding, so no spelling the API accepts slips past. gunicorn's logger
(gunicorn_logging) and every log handler log_format sets up use it.
"""
from __future__ import annotations

import re
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset({"contactapikey", "developerapikey"})
MASK = "***"

# name=value after "?" or "&" (or at the start, as in a bare query string). werkzeug splits on "&" only,
# so a value runs to the next "&" (or the space ending a request line): stopping at ";" or a quote would
# leave the rest of the key in the log.
_PARAMETER = re.compile(r"(?:(?<=[?&])|^)([^=&?\s]+)=([^&\s]*)")


def redact(text: str) -> str:
    """``text`` with the value of every API-key parameter in it replaced by ***."""
    if "=" not in text:
        return text
    return _PARAMETER.sub(_mask_secret, text)


def _mask_secret(match: re.Match[str]) -> str:
    name = match.group(1)
    if unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
        return f"{name}={MASK}"
    return match.group(0)
