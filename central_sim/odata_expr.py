"""OData ``$filter`` expressions read as Central reads them.

Central (4f5943d) parses with odata-v4-parser 0.1 and then walks the tree.
Where that parser's grammar decides what a client sees, this follows it step
for step: the longest expression it can read wins, so an error names the
position where reading stopped ("Unexpected character at 4", "Fail at 0");
``not`` takes the whole boolean expression after it (``not a and b`` is
``not (a and b)``); ``and`` binds tighter than ``or`` by the parser's one
rewrite. Node types carry the parser's names, which Central quotes in 501.4.

Only what a filter on Central's few fields can use is read: literals (null,
booleans, GUIDs, dates and date-times, times of day, numbers, strings), member
paths, ``$root/`` paths, method calls, negation, parentheses, comparisons and
arithmetic. Lambdas, ``cast``, ``isof``, JSON values and parameter aliases are
not; the parser reads them, Central then refuses them with 501.4, and here
they end the expression where they start.
"""

import re
from dataclasses import dataclass, field

from central_sim.problems import Problem


@dataclass(slots=True)
class Node:
    type: str
    position: int
    next: int
    raw: str
    left: "Node | None" = None
    right: "Node | None" = None
    inner: "Node | None" = None
    method: str = ""
    parameters: list["Node"] | None = field(default=None)


# Method names with (fewest, most) parameters, in the parser's order of trial.
_METHODS = [
    ("indexof", 2, 2), ("tolower", 1, 1), ("toupper", 1, 1), ("trim", 1, 1),
    ("substring", 2, 3), ("substringof", 2, 2), ("concat", 2, 2),
    ("length", 1, 1), ("year", 1, 1), ("month", 1, 1), ("day", 1, 1),
    ("hour", 1, 1), ("minute", 1, 1), ("second", 1, 1),
    ("fractionalseconds", 1, 1), ("totalseconds", 1, 1), ("date", 1, 1),
    ("time", 1, 1), ("round", 1, 1), ("floor", 1, 1), ("ceiling", 1, 1),
    ("geo.distance", 2, 2), ("geo.length", 1, 1), ("totaloffsetminutes", 1, 1),
    ("mindatetime", 0, 0), ("maxdatetime", 0, 0), ("now", 0, 0),
]  # fmt: skip
_BOOL_METHODS = [
    ("endswith", 2, 2), ("startswith", 2, 2), ("contains", 2, 2),
    ("geo.intersects", 2, 2),
]  # fmt: skip
_COMPARISONS = [
    ("eq", "EqualsExpression"), ("ne", "NotEqualsExpression"),
    ("lt", "LesserThanExpression"), ("le", "LesserOrEqualsExpression"),
    ("gt", "GreaterThanExpression"), ("ge", "GreaterOrEqualsExpression"),
    ("has", "HasExpression"),
]  # fmt: skip
_JUNCTIONS = [("and", "AndExpression"), ("or", "OrExpression")]
_ARITHMETIC = [
    ("add", "AddExpression"), ("sub", "SubExpression"), ("mul", "MulExpression"),
    ("div", "DivExpression"), ("mod", "ModExpression"),
]  # fmt: skip
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_HEX = "0123456789abcdefABCDEF"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-")
_YEAR = re.compile(r"-?(?:0\d{3}|[1-9]\d{3,})")
_MONTH = re.compile(r"0[1-9]|1[0-2]")
_DAY = re.compile(r"0[1-9]|[12]\d|3[01]")
_HOUR = re.compile(r"[01]\d|2[0-3]")
_SIXTY = re.compile(r"[0-5]\d")
_PCHAR_SINGLE = set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~$&!()*+,;=:@"
)


def parse(text: str) -> Node:
    """The expression tree, or Central's 400.18 with the parser's reason."""
    found = _Reader(text).bool_common(0)
    if found is None:
        raise Problem.unparseable_filter("Fail at 0")
    if found.next < len(text):
        raise Problem.unparseable_filter(f"Unexpected character at {found.next}")
    return found


class _Reader:
    """Each method reads one rule at an index and returns a Node or None."""

    def __init__(self, text: str):
        self.s = text

    def node(self, kind: str, start: int, end: int, **parts) -> Node:
        return Node(kind, start, end, self.s[start:end], **parts)

    # Lexical pieces

    def equals(self, at: int, word: str) -> bool:
        return self.s.startswith(word, at)

    def ows(self, at: int) -> int:
        while True:
            if self.s.startswith(("%20", "%09"), at):
                at += 3
            elif at < len(self.s) and self.s[at] in " \t":
                at += 1
            else:
                return at

    def delimiter(self, at: int, char: str, encoded: str) -> int | None:
        if at < len(self.s) and self.s[at] == char:
            return at + 1
        if self.s.startswith(encoded, at):
            return at + 3
        return None

    def open(self, at: int) -> int | None:
        return self.delimiter(at, "(", "%28")

    def close(self, at: int) -> int | None:
        return self.delimiter(at, ")", "%29")

    def comma(self, at: int) -> int | None:
        return self.delimiter(at, ",", "%2C")

    def squote(self, at: int) -> int | None:
        return self.delimiter(at, "'", "%27")

    def match(self, pattern: re.Pattern, at: int) -> int | None:
        found = pattern.match(self.s, at)
        return found.end() if found else None

    def pchar(self, at: int) -> int:
        """One character a URL may carry unescaped, but not a quote."""
        if at < len(self.s) and self.s[at] in _PCHAR_SINGLE:
            return at + 1
        chunk = self.s[at : at + 3]
        if len(chunk) == 3 and chunk[0] == "%" and all(c in _HEX for c in chunk[1:]):
            return at if chunk.upper() == "%27" else at + 3
        return at

    # Boolean expressions

    def bool_common(self, at: int) -> Node | None:
        token = (
            self.method_call(at, _BOOL_METHODS)
            or self.not_expr(at)
            or self.common(at)
            or self.bool_paren(at)
        )
        if token is None:
            return None
        if token.type == "CommonExpression":
            found = self.operator(token.next, _COMPARISONS, self.common)
            if found is not None:
                kind, operand = found
                token = self.node(
                    kind, token.position, operand.next,
                    left=token.inner, right=operand.inner,
                )  # fmt: skip
        found = self.operator(token.next, _JUNCTIONS, self.bool_common)
        if found is None:
            return token
        kind, right = found
        if kind == "AndExpression" and right.type == "OrExpression":
            # The parser's one rewrite, so that ``a and b or c`` is an or.
            pair = self.node(
                kind, token.position, right.left.next, left=token, right=right.left
            )
            return self.node(
                "OrExpression", token.position, right.next,
                left=pair, right=right.right,
            )  # fmt: skip
        return self.node(kind, token.position, right.next, left=token, right=right)

    def operator(self, at: int, operators, operand_rule):
        """`` <operator> <operand>`` at ``at``: the operator's node type and the
        operand, or None. Whitespace is required on both sides."""
        gap = self.ows(at)
        if gap == at:
            return None
        for word, kind in operators:
            if not self.equals(gap, word):
                continue
            start = self.ows(gap + len(word))
            if start == gap + len(word):
                return None
            operand = operand_rule(start)
            return None if operand is None else (kind, operand)
        return None

    def not_expr(self, at: int) -> Node | None:
        if not self.equals(at, "not"):
            return None
        start = self.ows(at + 3)
        if start == at + 3:
            return None
        inner = self.bool_common(start)
        if inner is None:
            return None
        return self.node("NotExpression", at, inner.next, inner=inner)

    def bool_paren(self, at: int) -> Node | None:
        start = self.open(at)
        if start is None:
            return None
        inner = self.bool_common(self.ows(start))
        if inner is None:
            return None
        end = self.close(self.ows(inner.next))
        if end is None:
            return None
        return self.node("BoolParenExpression", at, end, inner=inner)

    # Common expressions

    def common(self, at: int) -> Node | None:
        token = (
            self.literal(at)
            or self.root(at)
            or self.method_call(at, _METHODS)
            or self.member(at)
            or self.negate(at)
            or self.paren(at)
        )
        if token is None:
            return None
        found = self.operator(token.next, _ARITHMETIC, self.common)
        if found is not None:
            kind, operand = found
            token = self.node(
                kind, token.position, operand.next, left=token, right=operand.inner
            )
        return self.node("CommonExpression", token.position, token.next, inner=token)

    def method_call(self, at: int, methods) -> Node | None:
        for name, fewest, most in methods:
            if not self.equals(at, name):
                continue
            found = self._call(at, name, fewest, most)
            if found is not None:
                return found
        return None

    def _call(self, at: int, name: str, fewest: int, most: int) -> Node | None:
        index = self.open(at + len(name))
        if index is None:
            return None
        index = self.ows(index)
        parameters = None
        if fewest > 0:
            parameters = []
            while len(parameters) < most:
                expr = self.common(index)
                if expr is None:
                    if len(parameters) < fewest:
                        return None
                    break
                parameters.append(expr.inner)
                index = self.ows(expr.next)
                after = self.comma(index)
                if after is None:
                    if len(parameters) < fewest:
                        return None
                    break
                index = self.ows(after)
        end = self.close(self.ows(index))
        if end is None:
            return None
        return self.node(
            "MethodCallExpression", at, end, method=name, parameters=parameters
        )

    def member(self, at: int) -> Node | None:
        end = self._path(at)
        if end is None:
            return None
        return self.node("FirstMemberExpression", at, end)

    def _path(self, at: int) -> int | None:
        end = self.match(_IDENTIFIER, at)
        while end is not None and self.equals(end, "/"):
            further = self.match(_IDENTIFIER, end + 1)
            if further is None:
                break
            end = further
        return end

    def root(self, at: int) -> Node | None:
        if not self.equals(at, "$root/"):
            return None
        end = self._path(at + 6)
        if end is None:
            return None
        return self.node("RootExpression", at, end)

    def negate(self, at: int) -> Node | None:
        if not self.equals(at, "-"):
            return None
        expr = self.common(self.ows(at + 1))
        if expr is None:
            return None
        return self.node("NegateExpression", at, expr.next, inner=expr)

    def paren(self, at: int) -> Node | None:
        start = self.open(at)
        if start is None:
            return None
        expr = self.common(self.ows(start))
        if expr is None:
            return None
        end = self.close(self.ows(expr.next))
        if end is None:
            return None
        return self.node("ParenExpression", at, end, inner=expr.inner)

    # Literals

    def literal(self, at: int) -> Node | None:
        for reader in (
            self._word,
            self._guid,
            self._date,
            self._date_time,
            self._time_of_day,
            self._decimal,
            self._integer,
            self._string,
        ):
            end = reader(at)
            if end:
                return self.node("Literal", at, end)
        return None

    def _word(self, at: int) -> int | None:
        for word in ("null", "true", "false"):
            if self.equals(at, word):
                return at + len(word)
        return None

    def _guid(self, at: int) -> int | None:
        if _GUID.match(self.s, at) and re.match(r"[0-9a-fA-F]{12}", self.s[at + 24 :]):
            return at + 36
        return None

    def _ymd(self, at: int) -> int | None:
        year = self.match(_YEAR, at)
        if year is None or not self.equals(year, "-"):
            return None
        month = self.match(_MONTH, year + 1)
        if month is None or not self.equals(month, "-"):
            return None
        return self.match(_DAY, month + 1)

    def _date(self, at: int) -> int | None:
        end = self._ymd(at)
        if end is None or self.equals(end, "T"):
            return None
        return end

    def _clock(self, at: int) -> int | None:
        hour = self.match(_HOUR, at)
        if hour is None or not self.equals(hour, ":"):
            return None
        end = self.match(_SIXTY, hour + 1)
        if end is None:
            return None
        if self.equals(end, ":"):
            end = self.match(_SIXTY, end + 1)
            if end is None:
                return None
            if self.equals(end, "."):
                end = self.match(re.compile(r"\d{1,12}"), end + 1)
        return end

    def _date_time(self, at: int) -> int | None:
        day = self._ymd(at)
        if day is None or not self.equals(day, "T"):
            return None
        end = self._clock(day + 1)
        if end is None:
            return None
        if self.equals(end, "Z"):
            return end + 1
        sign = end + 1 if self.s[end : end + 1] in ("+", "-") else None
        sign = end + 3 if self.equals(end, "%2B") else sign
        if sign is None:
            return None
        hour = self.match(_HOUR, sign)
        if hour is None or not self.equals(hour, ":"):
            return None
        return self.match(_SIXTY, hour + 1)

    def _time_of_day(self, at: int) -> int | None:
        return self._clock(at)

    def _decimal(self, at: int) -> int | None:
        if self.s.startswith(("NaN", "-INF", "INF"), at):
            return at + (4 if self.equals(at, "-INF") else 3)
        found = re.compile(r"[+-]?\d+\.\d+(?:e[+-]?\d+)?").match(self.s, at)
        return found.end() if found else None

    def _integer(self, at: int) -> int | None:
        found = re.compile(r"[+-]?\d{1,19}").match(self.s, at)
        if found is None or self.s[found.end() : found.end() + 1].isdigit():
            return None
        return found.end()

    def _string(self, at: int) -> int | None:
        index = self.squote(at)
        if index is None:
            return None
        while index < len(self.s):
            after = self.squote(index)
            if after is None:
                step = max(self.ows(index), self.pchar(index))
                if step == index:
                    return None
                index = step
                continue
            index = after
            doubled = self.squote(index)
            if doubled is not None:
                index = doubled
                continue
            if self._glued(index):
                return None
            break
        closing = self.squote(index - 1) or self.squote(index - 3)
        return closing

    def _glued(self, at: int) -> bool:
        """A closing quote followed straight on by more text."""
        if at >= len(self.s):
            return False
        if self.s[at] in "&,)" or self.equals(at, "%29") or self.equals(at, "%2C"):
            return False
        return self.pchar(at) > at and self.ows(at) == at
