"""Scrub secrets from text before it reaches a log, an error message or the run history.

Client errors carry URLs, headers and bodies (``str(SalesforceError)`` holds the full
response), so everything crossing the API boundary passes through ``redact``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***"

_PATTERNS = [
    # Authorization headers: Bearer/OAuth/Basic tokens.
    re.compile(r"(?i)\b(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|oauth|basic)\s+)[^\s'\",}]+"),
    re.compile(r"(?i)\b((?:bearer|oauth)\s+)[A-Za-z0-9!._~+/=-]{16,}"),
    # Salesforce session ids: <15/18-char org id>!<token>.
    re.compile(r"\b(00D[A-Za-z0-9]{12,15}!)[A-Za-z0-9._]+"),
    # key=value / "key": "value" for secret-looking keys (query strings, form bodies, JSON).
    re.compile(
        r"(?i)([\"']?\b(?:access_token|refresh_token|client_secret|password|security_token|"
        r"sessionid|session_id|assertion|api_token|token|secret|private_key)\b[\"']?\s*[:=]\s*"
        r"[\"']?)[^\s&\"',}<]+"
    ),
    # SOAP login bodies.
    re.compile(r"(?i)(<(?:n1:)?(?:password|sessionId)>)[^<]*"),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secret values first, then anything shaped like a credential."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credentials masked."""
    sensitive = {"authorization", "cookie", "set-cookie", "x-sfdc-session", "proxy-authorization"}
    return {k: (MASK if k.lower() in sensitive else v) for k, v in headers.items()}
