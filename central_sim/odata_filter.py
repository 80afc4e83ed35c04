"""The subset of OData ``$filter`` and ``$orderby`` Central supports, compiled to
SQLite over the submissions table. Like Central, only ``__id`` and some
``__system`` fields may be referenced; a form field is refused with 501.5, and
of the functions only year, month, day, hour, minute and second (read in UTC,
as Central's database reads them by default) and now."""

from dataclasses import dataclass

from central_sim import clock
from central_sim.odata_expr import Node, parse
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

_EXTRACT = {
    "year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M",
    "second": "%f",
}  # fmt: skip
_SYMBOLS = {
    "LesserThanExpression": "<",
    "LesserOrEqualsExpression": "<=",
    "GreaterThanExpression": ">",
    "GreaterOrEqualsExpression": ">=",
}
_COMPARED = {"EqualsExpression", "NotEqualsExpression", *_SYMBOLS}
_DELETED_AT = ("__system/deletedAt", "$root/Submissions/__system/deletedAt")


@dataclass(slots=True)
class _Operand:
    sql: str | None  # None for the literal null
    params: list
    kind: str  # "column:<type>" or "literal"


def _mentions_deleted(node: Node) -> bool:
    """Central's test for whether deleted submissions stay in, node for node.

    Central (4f5943d) reads a method call's first parameter without looking,
    so ``now()`` reached here fails the request with a 500; a ``deletedAt``
    earlier in an ``and`` or ``or`` stops the walk before it gets there.
    """
    if node.type in ("FirstMemberExpression", "RootExpression"):
        return node.raw in _DELETED_AT
    if node.type == "MethodCallExpression":
        if not node.parameters:
            raise Problem.server_error()
        return _mentions_deleted(node.parameters[0])
    if node.type in _COMPARED or node.type in ("AndExpression", "OrExpression"):
        return _mentions_deleted(node.left) or _mentions_deleted(node.right)
    if node.type in ("BoolParenExpression", "NotExpression"):
        return _mentions_deleted(node.inner)
    return False


class _Compiler:
    """Central's walk from the tree to SQL, left operand first, so the first
    unsupported field or expression from the left is the one refused."""

    def __init__(self, columns: dict):
        self.columns = columns

    def boolean(self, node: Node) -> tuple[str, list]:
        # A boolean position never holds a bare literal (the parser wraps one
        # in a CommonExpression, refused below), so the SQL is never None.
        operand = self.operand(node)
        return operand.sql, operand.params

    def operand(self, node: Node) -> _Operand:
        if node.type in ("FirstMemberExpression", "RootExpression"):
            return self.column(node)
        if node.type == "Literal":
            return self.literal(node)
        if node.type == "MethodCallExpression":
            return self.call(node)
        if node.type in ("EqualsExpression", "NotEqualsExpression"):
            return self.equality(node)
        if node.type in _SYMBOLS:
            return self.order(node)
        if node.type in ("AndExpression", "OrExpression"):
            word = "and" if node.type == "AndExpression" else "or"
            left, right = self.boolean(node.left), self.boolean(node.right)
            return _Operand(f"({left[0]} {word} {right[0]})", left[1] + right[1], "")
        if node.type == "NotExpression":
            sql, params = self.boolean(node.inner)
            return _Operand(f"(not {sql})", params, "")
        if node.type == "BoolParenExpression":
            return self.operand(node.inner)
        raise Problem.unsupported_expression(node.position, node.type, node.raw)

    def column(self, node: Node) -> _Operand:
        if node.raw not in self.columns:
            raise Problem.unsupported_field(node.raw, node.position)
        column, kind = self.columns[node.raw]
        return _Operand(column, [], f"column:{kind}")

    def literal(self, node: Node) -> _Operand:
        if node.raw == "null":
            return _Operand(None, [], "literal")
        quoted = node.raw.startswith("'") and node.raw.endswith("'")
        # Central strips the quotes and leaves doubled quotes doubled.
        return _Operand("?", [node.raw[1:-1] if quoted else node.raw], "literal")

    def call(self, node: Node) -> _Operand:
        if node.method == "now":
            return _Operand("?", [clock.wall()], "column:time")
        if node.method not in _EXTRACT:
            raise Problem.unsupported_expression(node.position, node.type, node.raw)
        argument = self.operand(node.parameters[0])
        kind = "real" if node.method == "second" else "integer"
        part = _EXTRACT[node.method]
        sql = f"cast(strftime('{part}', {argument.sql}) as {kind})"
        return _Operand(sql, argument.params, "column:number")

    def compared(self, node: Node) -> tuple[_Operand, _Operand]:
        """Both sides of a comparison, each literal read as the other's type."""
        left = self.operand(node.left)
        right = self.operand(node.right)
        return _coerce(left, right.kind), _coerce(right, left.kind)

    def equality(self, node: Node) -> _Operand:
        left, right = self.compared(node)
        if left.sql is None and right.sql is None:
            sql, params = "1", []
        elif left.sql is None or right.sql is None:
            present = right if left.sql is None else left
            sql, params = f"{present.sql} is null", present.params
        else:
            sql, params = f"{left.sql} is {right.sql}", left.params + right.params
        if node.type == "NotEqualsExpression":
            return _Operand(f"(not ({sql}))", params, "")
        return _Operand(f"({sql})", params, "")

    def order(self, node: Node) -> _Operand:
        left, right = self.compared(node)
        if left.sql is None or right.sql is None:
            return _Operand("(null)", [], "")
        symbol = _SYMBOLS[node.type]
        return _Operand(
            f"({left.sql} {symbol} {right.sql})", left.params + right.params, ""
        )


def _coerce(literal: _Operand, kind: str) -> _Operand:
    """A literal read as the type of what it is compared with, as PostgreSQL
    reads Central's untyped parameter. One it cannot read as a number is
    PostgreSQL's complaint, which Central passes on as 400.11; one it cannot
    read as a time fails the query with a 500 (another error code, which
    Central does not translate)."""
    if literal.kind != "literal" or literal.sql is None:
        return literal
    value = str(literal.params[0])
    if kind == "column:time":
        stamp = clock.normalise(value)
        if stamp is None:
            raise Problem.server_error()
        return _Operand("?", [stamp], "literal")
    if kind in ("column:int", "column:number"):
        try:
            number = int(value) if kind == "column:int" else float(value)
        except ValueError as err:
            expected = "type integer" if kind == "column:int" else "type numeric"
            raise Problem.invalid_type(value, expected) from err
        return _Operand("?", [number], "literal")
    return literal


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
    tree = parse(expression)
    mentions_deleted = _mentions_deleted(tree)
    columns = SUBTABLE_COLUMNS if subtable else ROOT_COLUMNS
    sql, params = _Compiler(columns).boolean(tree)
    if not mentions_deleted:
        sql = f"({sql}) and s.deleted_at is null"
    return Filter(sql, params, mentions_deleted)


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
