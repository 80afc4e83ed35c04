"""The $filter reader answers as Central's parser and walk do (recorded in
tests/contract/fixtures/central_edges.json); these pin the rules down."""

import pytest

from central_sim.odata_expr import parse
from central_sim.odata_filter import compile_filter
from central_sim.problems import Problem


def _refusal(expression: str) -> tuple[float, str]:
    with pytest.raises(Problem) as refused:
        compile_filter(expression)
    return refused.value.code, refused.value.message


def test_not__takes_the_whole_expression_after_it():
    tree = parse("not __id eq 'a' and __id eq 'b'")

    assert tree.type == "NotExpression"
    assert tree.inner.type == "AndExpression"


def test_and_then_or__read_as_an_or_of_the_and():
    tree = parse("__id eq 'a' and __id eq 'b' or __id eq 'c'")

    assert (tree.type, tree.left.type) == ("OrExpression", "AndExpression")


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("__id eq", "Unexpected character at 4"),
        ("__id eq 'x' xor __id eq 'y'", "Unexpected character at 11"),
        ("", "Fail at 0"),
    ],
)
def test_unreadable__400_18_names_where_reading_stopped(expression, reason):
    code, message = _refusal(expression)

    assert code == 400.18 and message.endswith(reason)


@pytest.mark.parametrize(
    "expression", ["null", "not null", "(null)", "__id eq 'a' and null"]
)
def test_bare_literal_as_a_condition__501_4_as_a_common_expression(expression):
    code, message = _refusal(expression)

    assert code == 501.4
    assert "CommonExpression at" in message


def test_unsupported_method__501_4_quotes_the_whole_call():
    code, message = _refusal("tolower(__id) eq 'x'")

    assert code == 501.4
    assert message.endswith('MethodCallExpression at 0 ("tolower(__id)")')


def test_now__fails_as_central_does_unless_deleted_at_comes_first():
    assert _refusal("__system/submissionDate lt now()")[0] == 500

    kept = compile_filter("__system/deletedAt eq null or __system/updatedAt lt now()")

    assert kept.mentions_deleted


def test_second__keeps_the_fraction():
    where = compile_filter("second(__system/submissionDate) eq 12.256")

    assert "'%f'" in where.sql and where.params == [12.256]


def test_literal_that_does_not_fit_the_column__refused_as_postgresql_refuses_it():
    assert _refusal("__system/submissionDate gt 'soon'")[0] == 500
    assert _refusal("__system/submitterId eq 'x'") == (
        400.11,
        'Invalid input data type: expected "x" to be (type integer)',
    )
    assert _refusal("year(__system/submissionDate) eq 'x'")[0] == 400.11
