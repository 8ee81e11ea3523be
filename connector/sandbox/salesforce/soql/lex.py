"""SOQL tokens and literals: strings with SOQL escapes, numbers, dates and datetimes.

Datetime literals are normalised to the wire form the records use
(``YYYY-MM-DDTHH:MM:SS.mmm+0000``, always UTC), so comparing them is comparing strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from connector.sandbox.salesforce.soql.errors import SoqlError, located, malformed

_SPEC = re.compile(
    r"""
    (?P<ws>\s+)
   |(?P<datetime>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})?)
   |(?P<date>\d{4}-\d{2}-\d{2})
   |(?P<number>-?(?:\d+(?:\.\d*)?|\.\d+))
   |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
   |(?P<op>!=|<>|<=|>=|=|<|>)
   |(?P<punct>[(),:])
   |(?P<string>')
    """,
    re.VERBOSE,
)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


@dataclass(frozen=True)
class Token:
    """One token; ``value`` holds the decoded literal (raw body for strings)."""

    kind: str  # ident string number date datetime op punct eof
    text: str
    pos: int
    value: Any = None

    def is_word(self, *words: str) -> bool:
        """True when this is one of ``words`` (keywords are case-insensitive)."""
        return self.kind == "ident" and self.text.upper() in words


def tokenize(soql: str) -> list[Token]:
    """Split ``soql`` into tokens, ending with an ``eof`` token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(soql):
        m = _SPEC.match(soql, pos)
        if m is None:
            row = soql.count("\n", 0, pos) + 1
            col = pos - soql.rfind("\n", 0, pos) - 1
            text = f"line {row}:{col} unexpected token: '{soql[pos]}'"
            raise SoqlError("MALFORMED_QUERY", located(soql, pos, text, zero_based=True))
        kind = m.lastgroup or ""
        if kind == "string":
            end, body = _string_end(soql, pos)
            tokens.append(Token("string", soql[pos:end], pos, body))
            pos = end
            continue
        text = m.group()
        if kind != "ws":
            tokens.append(Token(kind, text, pos, _value(soql, kind, text, pos)))
        pos = m.end()
    tokens.append(Token("eof", "<EOF>", len(soql)))
    return tokens


def _string_end(soql: str, start: int) -> tuple[int, str]:
    """End offset and raw body of the string literal opening at ``start``."""
    i = start + 1
    while i < len(soql):
        ch = soql[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "'":
            return i + 1, soql[start + 1 : i]
        i += 1
    raise malformed(soql, start, "unexpected token: '<EOF>'")


def _value(soql: str, kind: str, text: str, pos: int) -> Any:
    if kind == "number":
        return float(text) if "." in text else int(text)
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise malformed(soql, pos, f"Invalid date: {text}") from None
    if kind == "datetime":
        return parse_datetime(soql, pos, text)
    return None


def parse_datetime(soql: str, pos: int, text: str) -> str:
    """The UTC wire form of a SOQL datetime literal; a literal needs a zone (Z or an offset)."""
    m = _DATETIME.match(text)
    try:
        if m is None or not (m.group(8) or m.group(9)):
            raise ValueError(text)
        y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
        micros = int((m.group(7) or "0")[:6].ljust(6, "0"))
        zone = UTC
        if m.group(9):
            hours, minutes = int(m.group(10)), int(m.group(11))
            sign = -1 if m.group(9) == "-" else 1
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        value = datetime(y, mo, d, h, mi, s, micros, tzinfo=zone).astimezone(UTC)
    except ValueError:
        raise malformed(soql, pos, f"Invalid datetime: {text}") from None
    return format_datetime(value)


def format_datetime(value: datetime) -> str:
    """A UTC datetime in the wire form records use."""
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}+0000"


def decode(soql: str, body: str, pos: int) -> str:
    """The text of a string literal outside LIKE; a stray backslash is an error, as in SOQL."""
    return "".join(_chars(soql, body, pos, like=False))


def like_pattern(soql: str, body: str, pos: int) -> re.Pattern[str]:
    """A LIKE pattern as a case-insensitive regex: ``%`` any run, ``_`` one character."""
    parts = []
    for ch in _chars(soql, body, pos, like=True):
        if ch == "\0%":
            parts.append(".*")
        elif ch == "\0_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _chars(soql: str, body: str, pos: int, *, like: bool) -> list[str]:
    """Characters of a string literal; in LIKE, wildcards come back as ``"\\0%"``/``"\\0_"``."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append("\0" + ch if like and ch in "%_" else ch)
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt.lower() in _ESCAPES:
            out.append(_ESCAPES[nxt.lower()])
        elif like and nxt in "%_" and nxt:
            out.append(nxt)
        elif nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 4
        else:
            text = (
                f"Invalid string literal '{body}'. Illegal character sequence "
                f"'\\{nxt}' in quoted string."
            )
            raise malformed(soql, pos, text)
        i += 2
    return out
