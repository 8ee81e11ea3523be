"""SOQL errors as Salesforce words them, with the caret block that points at the culprit.

Salesforce prefixes most query errors with the offending line (a window of about 30
characters either side, cut at token boundaries), a caret under the token and
``ERROR at Row:r:Column:c``; the wording of each message is kept as observed in real
responses so that the connector's error handling meets the real thing.
"""

from __future__ import annotations

import re

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"

_WSDL_HINT = "Please reference your WSDL or the describe call for the appropriate names."
_TOKEN = re.compile(r"[\w.]+|\S")
_WINDOW = 30  # characters shown either side of the caret, widened to whole tokens


class SoqlError(Exception):
    """A query Salesforce would refuse: ``error_code`` and ``message`` go into the 400 body."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message


def _window(line: str, col: int) -> tuple[int, int]:
    """Start and end of the part of ``line`` shown around column ``col`` (0-based)."""
    lo, hi = col - _WINDOW, col + _WINDOW
    tokens = list(_TOKEN.finditer(line))
    start = next((m.start() for m in tokens if m.end() > lo), 0)
    end = next((m.end() for m in tokens if m.end() > hi), len(line))
    return min(start, col), max(end, col + 1)


def located(soql: str, pos: int, text: str, *, zero_based: bool = False) -> str:
    """``text`` under the caret block for offset ``pos``; lexer errors count columns from 0."""
    pos = max(0, min(pos, len(soql)))
    row = soql.count("\n", 0, pos) + 1
    line_start = soql.rfind("\n", 0, pos) + 1
    line_end = soql.find("\n", pos)
    line = soql[line_start : line_end if line_end >= 0 else len(soql)]
    col = pos - line_start
    start, end = _window(line, col)
    caret = " " * (col - start) + "^"
    column = col if zero_based else col + 1
    return f"\n{line[start:end]}\n{caret}\nERROR at Row:{row}:Column:{column}\n{text}"


def malformed(soql: str, pos: int, text: str) -> SoqlError:
    """MALFORMED_QUERY pointing at ``pos``."""
    return SoqlError(MALFORMED_QUERY, located(soql, pos, text))


def unexpected(soql: str, pos: int, token: str) -> SoqlError:
    """The parser's ``unexpected token: 'X'`` (quoted since API v61.0)."""
    return malformed(soql, pos, f"unexpected token: '{token}'")


def no_such_column(soql: str, pos: int, field: str, entity: str) -> SoqlError:
    """INVALID_FIELD for an unknown or hidden field."""
    text = (
        f"No such column '{field}' on entity '{entity}'. If you are attempting to use a "
        f"custom field, be sure to append the '__c' after the custom field name. {_WSDL_HINT}"
    )
    return SoqlError(INVALID_FIELD, located(soql, pos, text))


def bad_relationship(soql: str, pos: int, name: str) -> SoqlError:
    """INVALID_FIELD for an unknown relationship in a field path."""
    text = (
        f"Didn't understand relationship '{name}' in field path. If you are attempting to use "
        f"a custom relationship, be sure to append the '__r' after the custom relationship "
        f"name. {_WSDL_HINT}"
    )
    return SoqlError(INVALID_FIELD, located(soql, pos, text))


def unknown_sobject(soql: str, pos: int, name: str) -> SoqlError:
    """INVALID_TYPE for an sObject that does not exist or is not visible."""
    text = (
        f"sObject type '{name}' is not supported. If you are attempting to use a custom "
        f"object, be sure to append the '__c' after the entity name. {_WSDL_HINT}"
    )
    return SoqlError(INVALID_TYPE, located(soql, pos, text))


def wrong_literal(soql: str, pos: int, field: str, type_name: str) -> SoqlError:
    """INVALID_FIELD for a filter value of the wrong type (quoted date, bare string, ...)."""
    if type_name == "string":
        tail = "must be of type string and should be enclosed in quotes"
    else:
        tail = f"must be of type {type_name} and should not be enclosed in quotes"
    text = f"value of filter criterion for field '{field}' {tail}"
    return SoqlError(INVALID_FIELD, located(soql, pos, text))


def duplicate_field(name: str) -> SoqlError:
    """Selecting one field twice; Salesforce gives no caret block for this one."""
    return SoqlError(INVALID_FIELD, f"duplicate field selected: {name}")
