"""The subset of OData ``$filter`` and ``$orderby`` Central supports, compiled to
SQLite over the submissions table. Like Central, only ``__id`` and some
``__system`` fields may be referenced; a form field is refused with 501.5."""

import re
from dataclasses import dataclass

from central_sim import clock
from central_sim.problems import Problem

_SYSTEM = {
    "__id": ("s.instance_id", "text"),
    "__system/submissionDate": ("s.created_at", "time"),
    "__system/updatedAt": ("s.updated_at", "time"),
    "__system/submitterId": ("s.submitter_id", "int"),
    "__system/reviewState": ("s.review_state", "text"),
    "__system/deletedAt": ("s.deleted_at", "time"),
}
ROOT_COLUMNS = {**_SYSTEM, **{f"$root/Submissions/{k}": v for k, v in _SYSTEM.items()}}
SUBTABLE_COLUMNS = {f"$root/Submissions/{k}": v for k, v in _SYSTEM.items()}

_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_EXTRACT = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M"}
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')"
    r"|(?P<open>\()|(?P<close>\))|(?P<comma>,)"
    r"|(?P<datetime>\d{4}-\d\d-\d\d(?:T[0-9:.]+(?:Z|[+-]\d\d:\d\d)?)?)"
    r"|(?P<number>[+-]?\d+(?:\.\d+)?)"
    r"|(?P<word>[A-Za-z_$][\w$/.-]*))"
)


@dataclass(slots=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(expression: str) -> list[_Token]:
    tokens, at = [], 0
    while at < len(expression):
        if expression[at:].strip() == "":
            break
        match = _TOKEN.match(expression, at)
        if match is None or match.end() == at:
            raise Problem.unparseable_filter(f"Unexpected character at {at}")
        kind = match.lastgroup
        start = match.start(kind)
        tokens.append(_Token(kind, match.group(kind), start))
        at = match.end()
    return tokens


@dataclass(slots=True)
class _Operand:
    sql: str | None
    params: list
    kind: str  # "column:<type>", "literal", "null", "bool", "number"
    raw: str = ""


class _Parser:
    def __init__(self, expression: str, columns: dict):
        self.tokens = _tokens(expression)
        self.position = 0
        self.columns = columns
        self.mentions_deleted = False

    def peek(self) -> _Token | None:
        if self.position < len(self.tokens):
            return self.tokens[self.position]
        return None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise Problem.unparseable_filter("Unexpected end of expression")
        self.position += 1
        return token

    def parse(self) -> str:
        sql, params = self.or_expr()
        if self.peek() is not None:
            raise Problem.unparseable_filter(f"Unexpected token at {self.peek().at}")
        self.params = params
        return sql

    def or_expr(self):
        sql, params = self.and_expr()
        while self._keyword("or"):
            right, more = self.and_expr()
            sql, params = f"({sql} or {right})", params + more
        return sql, params

    def and_expr(self):
        sql, params = self.not_expr()
        while self._keyword("and"):
            right, more = self.not_expr()
            sql, params = f"({sql} and {right})", params + more
        return sql, params

    def not_expr(self):
        if self._keyword("not"):
            sql, params = self.not_expr()
            return f"(not {sql})", params
        return self.comparison()

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text == word:
            self.position += 1
            return True
        return False

    def comparison(self):
        token = self.peek()
        if token is not None and token.kind == "open":
            self.take()
            sql, params = self.or_expr()
            if self.take().kind != "close":
                raise Problem.unparseable_filter("Expected a closing parenthesis")
            return sql, params
        left = self.operand()
        operator = self.take()
        if operator.kind != "word" or operator.text not in _COMPARISONS:
            raise Problem.unparseable_filter(f"Unexpected token at {operator.at}")
        right = self.operand()
        return _compare(operator.text, left, right)

    def operand(self) -> _Operand:
        token = self.take()
        if token.kind == "string":
            return _Operand("?", [token.text[1:-1]], "literal", token.text[1:-1])
        if token.kind in ("datetime", "number"):
            return _Operand("?", [token.text], "literal", token.text)
        if token.kind != "word":
            raise Problem.unparseable_filter(f"Unexpected token at {token.at}")
        if token.text == "null":
            return _Operand(None, [], "null")
        if token.text in ("true", "false"):
            return _Operand("?", [token.text == "true"], "literal", token.text)
        nxt = self.peek()
        if nxt is not None and nxt.kind == "open":
            return self.call(token)
        if token.text not in self.columns:
            raise Problem.unsupported_field(token.text, token.at)
        if token.text.endswith("__system/deletedAt"):
            self.mentions_deleted = True
        column, kind = self.columns[token.text]
        return _Operand(column, [], f"column:{kind}", token.text)

    def call(self, name: _Token) -> _Operand:
        self.take()
        if name.text == "now":
            self._expect_close()
            return _Operand("?", [clock.wall()], "column:time")
        if name.text not in (*_EXTRACT, "second"):
            raise Problem(
                501.4,
                "The given OData filter expression uses features not supported by "
                f'this server: MethodCallExpression at {name.at} ("{name.text}")',
            )
        argument = self.operand()
        self._expect_close()
        if name.text == "second":
            sql = f"cast(strftime('%S', {argument.sql}) as real)"
        else:
            sql = f"cast(strftime('{_EXTRACT[name.text]}', {argument.sql}) as integer)"
        return _Operand(sql, argument.params, "column:number")

    def _expect_close(self) -> None:
        if self.take().kind != "close":
            raise Problem.unparseable_filter("Expected a closing parenthesis")


def _coerce(literal: _Operand, kind: str) -> _Operand:
    if literal.kind != "literal":
        return literal
    value = literal.params[0]
    if kind == "column:time":
        value = clock.normalise(str(value)) or str(value)
    elif kind in ("column:int", "column:number"):
        try:
            value = float(value) if "." in str(value) else int(value)
        except ValueError:
            value = str(value)
    return _Operand("?", [value], "literal")


def _compare(operator: str, left: _Operand, right: _Operand):
    left, right = _coerce(left, right.kind), _coerce(right, left.kind)
    if operator in ("eq", "ne"):
        if left.sql is None and right.sql is None:
            sql, params = "1", []
        elif left.sql is None or right.sql is None:
            present = right if left.sql is None else left
            sql, params = f"{present.sql} is null", present.params
        else:
            sql, params = f"{left.sql} is {right.sql}", left.params + right.params
        return (f"(not ({sql}))" if operator == "ne" else f"({sql})"), params
    symbol = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[operator]
    if left.sql is None or right.sql is None:
        return "(null)", []
    return f"({left.sql} {symbol} {right.sql})", left.params + right.params


@dataclass(slots=True)
class Filter:
    sql: str
    params: list
    mentions_deleted: bool


def compile_filter(expression: str | None, *, subtable: bool = False) -> Filter:
    """A SQL condition (over alias ``s``) for an OData ``$filter``; deleted
    submissions are excluded unless the filter mentions ``deletedAt``."""
    if expression is None:
        return Filter("s.deleted_at is null", [], False)
    parser = _Parser(expression, SUBTABLE_COLUMNS if subtable else ROOT_COLUMNS)
    sql = parser.parse()
    if not parser.mentions_deleted:
        sql = f"({sql}) and s.deleted_at is null"
    return Filter(sql, parser.params, parser.mentions_deleted)


def compile_orderby(expression: str) -> str:
    clauses, first = [], None
    for part in expression.split(","):
        words = part.strip().split()
        column = words[0] if words else ""
        if column not in ROOT_COLUMNS:
            raise Problem.unsupported_field(column)
        direction = words[1] if len(words) > 1 else None
        if direction is not None and direction.lower() not in ("asc", "desc"):
            raise Problem.unsupported_field(direction)
        order = (
            "desc nulls last"
            if direction and direction.lower() == "desc"
            else "asc nulls first"
        )
        first = first or order
        clauses.append(f"{ROOT_COLUMNS[column][0]} {order}")
    clauses.append(f"s.id {first}")
    return "order by " + ", ".join(clauses)
