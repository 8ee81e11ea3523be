"""SOQL syntax: SELECT fields | COUNT() FROM obj [WHERE] [ORDER BY] [LIMIT] [OFFSET].

Syntax only; names are checked against the schema by ``soql_bind``. Errors carry the
messages Salesforce gives since API v61.0 (``unexpected token: 'OR'`` when AND and OR
are mixed without parentheses, as the Summer '24 release notes list them).
"""

from __future__ import annotations

from connector.sandbox.salesforce.soql.errors import (
    NUMBER_OUTSIDE_VALID_RANGE,
    SoqlError,
    malformed,
    unexpected,
)
from connector.sandbox.salesforce.soql.lex import Token, tokenize
from connector.sandbox.salesforce.soql.syntax import (
    Compare,
    Cond,
    DateRange,
    FieldPath,
    Junction,
    Literal,
    Not,
    OrderItem,
    Query,
)

MAX_OFFSET = 2000
_COMPARISONS = {"=", "!=", "<>", "<", "<=", ">", ">="}
_RANGES = {"TODAY", "YESTERDAY", "TOMORROW", "LAST_N_DAYS", "NEXT_N_DAYS"}


def parse(soql: str) -> Query:
    """Parse ``soql``; raises SoqlError(MALFORMED_QUERY) on a syntax error."""
    return _Parser(soql).query()


class _Parser:
    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = tokenize(soql)
        self.i = 0

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def fail(self, tok: Token | None = None) -> SoqlError:
        tok = tok or self.tok
        return unexpected(self.soql, tok.pos, tok.text)

    def expect_word(self, *words: str) -> Token:
        if not self.tok.is_word(*words):
            raise self.fail()
        return self.advance()

    def unsupported(self, pos: int, what: str) -> SoqlError:
        return malformed(self.soql, pos, f"{what} is not supported by the sandbox")

    def expect(self, text: str) -> Token:
        if self.tok.text != text or self.tok.kind not in ("punct", "op"):
            raise self.fail()
        return self.advance()

    def accept_word(self, *words: str) -> Token | None:
        return self.advance() if self.tok.is_word(*words) else None

    # -- clauses -------------------------------------------------------------------------
    def query(self) -> Query:
        select = self.expect_word("SELECT")
        if self.tok.is_word("FROM"):
            raise unexpected(self.soql, select.pos, f"SELECT {self.tok.text}")
        count, fields = self.select_list()
        self.expect_word("FROM")
        obj = self.advance()
        if obj.kind != "ident" or "." in obj.text:
            raise self.fail(obj)
        where = self.condition() if self.accept_word("WHERE") else None
        order = self.order_by() if self.accept_word("ORDER") else ()
        limit = self.integer() if self.accept_word("LIMIT") else None
        offset = 0
        if self.accept_word("OFFSET"):
            offset = self.integer()
            if offset > MAX_OFFSET:
                raise SoqlError(
                    NUMBER_OUTSIDE_VALID_RANGE, f"Maximum SOQL offset allowed is {MAX_OFFSET}"
                )
        if self.tok.kind != "eof":
            raise self.fail()
        return Query(self.soql, obj.text, obj.pos, count, fields, where, order, limit, offset)

    def select_list(self) -> tuple[bool, tuple[FieldPath, ...]]:
        if self.tok.is_word("COUNT") and self.tokens[self.i + 1].text == "(":
            self.advance()
            self.expect("(")
            if self.tok.text != ")":
                raise self.unsupported(self.tok.pos, "COUNT(field)")
            self.expect(")")
            return True, ()
        fields = [self.path()]
        while self.tok.text == "," and self.tok.kind == "punct":
            self.advance()
            fields.append(self.path())
        return False, tuple(fields)

    def path(self) -> FieldPath:
        tok = self.advance()
        if tok.kind != "ident" or tok.is_word("FROM"):
            raise self.fail(tok)
        if self.tok.text == "(":
            raise self.unsupported(tok.pos, f"{tok.text}()")
        return FieldPath(tuple(tok.text.split(".")), tok.pos)

    def integer(self) -> int:
        tok = self.advance()
        if tok.kind != "number" or not isinstance(tok.value, int) or tok.value < 0:
            raise self.fail(tok)
        value: int = tok.value
        return value

    def order_by(self) -> tuple[OrderItem, ...]:
        self.expect_word("BY")
        items = [self.order_item()]
        while self.tok.text == "," and self.tok.kind == "punct":
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        path = self.path()
        direction = self.accept_word("ASC", "DESC")
        descending = direction is not None and direction.is_word("DESC")
        nulls_first = not descending
        if self.accept_word("NULLS"):
            nulls_first = self.expect_word("FIRST", "LAST").is_word("FIRST")
        return OrderItem(path, descending, nulls_first)

    # -- conditions ----------------------------------------------------------------------
    def condition(self) -> Cond:
        """Terms joined by AND or by OR; mixing them needs parentheses, as in SOQL."""
        first = self.term()
        if not self.tok.is_word("AND", "OR"):
            return first
        op = self.tok.text.upper()
        terms = [first]
        while self.tok.is_word("AND", "OR"):
            if self.tok.text.upper() != op:
                raise self.fail()
            self.advance()
            terms.append(self.term())
        return Junction(op, tuple(terms))

    def term(self) -> Cond:
        if self.accept_word("NOT"):
            return Not(self.term())
        if self.tok.text == "(" and self.tok.kind == "punct":
            self.advance()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Cond:
        path = self.path()
        tok = self.tok
        if tok.kind == "op" and tok.text in _COMPARISONS:
            self.advance()
            op = "!=" if tok.text == "<>" else tok.text
            return Compare(path, op, (self.literal(),))
        if tok.is_word("LIKE"):
            self.advance()
            return Compare(path, "LIKE", (self.literal(),))
        if tok.is_word("NOT") and self.tokens[self.i + 1].is_word("IN"):
            self.advance()
            self.advance()
            return Compare(path, "NOT IN", self.literal_list(path, "NOT IN"))
        if tok.is_word("IN", "INCLUDES", "EXCLUDES"):
            self.advance()
            op = tok.text.upper()
            return Compare(path, op, self.literal_list(path, op))
        raise self.fail()

    def literal_list(self, path: FieldPath, op: str) -> tuple[Literal, ...]:
        self.expect("(")
        if self.tok.text == ")":
            raise unexpected(self.soql, path.pos, f"{path.text} {op} ()")
        if self.tok.is_word("SELECT"):
            raise self.unsupported(self.tok.pos, "a semi-join")
        values = [self.literal()]
        while self.tok.text == "," and self.tok.kind == "punct":
            self.advance()
            values.append(self.literal())
        self.expect(")")
        return tuple(values)

    def literal(self) -> Literal:
        tok = self.advance()
        if tok.kind in ("string", "number", "date", "datetime"):
            return Literal(tok.kind, tok.value, tok.text, tok.pos)
        if tok.is_word("TRUE", "FALSE"):
            return Literal("boolean", tok.is_word("TRUE"), tok.text, tok.pos)
        if tok.is_word("NULL"):
            return Literal("null", None, tok.text, tok.pos)
        if tok.kind == "ident" and tok.text.upper() in _RANGES:
            return self.date_range(tok)
        raise self.fail(tok)

    def date_range(self, tok: Token) -> Literal:
        name = tok.text.upper()
        n = 0
        if name.endswith("_N_DAYS"):
            self.expect(":")
            n = self.integer()
        return Literal("range", DateRange(name, n), tok.text, tok.pos)
