"""The custom-metadata JSONPath subset: what matches, what does not, and clear errors."""

from __future__ import annotations

import pytest

from aignostics_jupyter.emulator.jsonpath import JsonPathError, compile_jsonpath

pytestmark = pytest.mark.unit

DOC = {
    "sdk": {"note": "Hello World", "tags": ["Alpha", "beta"], "nested": [{"v": 1}, {"v": 5}]},
    "a": {"b": 3, "flag": True, "none": None},
    "study": "high",
    "score": 0.8,
    "odd key": "x",
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('$.sdk.note == "Hello World"', True),
        ('$.sdk.note == "hello world"', False),
        ("$.a.b == 3", True),
        ("$.a.b != 3", False),
        ("$.a.b <> 4", True),
        ("$.a.b >= 3", True),
        ("$.a.b < 3", False),
        ("$.a.flag == true", True),
        ("$.a.none == null", True),
        ('$.a.b == "3"', False),
        ('$.sdk.note like_regex "^hello" flag "i"', True),
        ('$.sdk.note like_regex "^hello"', False),
        ('$.sdk.note like_regex "o w" flag "iq"', True),
        ('$.sdk.tags[*] like_regex "^alpha$" flag "i"', True),
        ('$.sdk.tags ? (@ like_regex "^(gamma|beta)$")', True),
        ('$.sdk.tags ? (@ == "delta")', False),
        ('$.sdk.tags[0] == "Alpha"', True),
        ('$.sdk.tags[last] == "beta"', True),
        ('$.sdk.tags[5] == "beta"', False),
        ("$.sdk.nested[*].v ? (@ > 4)", True),
        ("$.sdk.nested.v ? (@ > 9)", False),
        ('$.study ? (@ == "high")', True),
        ("$.score ? (@ > 0.75)", True),
        ("$.a ? (@.b > 2 && @.b < 4)", True),
        ("$.a ? (@.b > 5 || @.flag == true)", True),
        ("$.a ? (!(@.b == 3))", False),
        ("!($.a.b == 3)", False),
        ("($.a.b == 3) && $.study", True),
        ("$.study", True),
        ("study", True),
        ('sdk.note == "Hello World"', True),
        ("$.missing", False),
        ("$.a.*  ? (@ == 3)", True),
        ('$."odd key" == "x"', True),
        ('$.sdk.note starts with "Hell"', True),
        ("exists($.a.b)", True),
        ("$.sdk ? (exists(@.missing))", False),
        ("$.score == 8e-1", True),
        ('"x" == "x"', True),
    ],
)
def test_matches(expression: str, expected: bool) -> None:
    assert compile_jsonpath(expression).matches(DOC) is expected


def test_none_document_never_matches() -> None:
    assert compile_jsonpath("$.a").matches(None) is False


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "   ",
        "$.a +",
        "@.a == 1",
        "$.a ==",
        '"just a literal"',
        "$.a like_regex 5",
        '$.a like_regex "("',
        '$.a like_regex "x" flag "z"',
        '$.a like_regex "x" flag 1',
        "$.a starts with 1",
        "$.a[foo]",
        "$.",
        "lax $.a",
        "exists(1)",
        "$.a ? (@ == 1",
        "$.a)",
        "$.a == 1 #",
    ],
)
def test_invalid_expressions_raise(expression: str) -> None:
    with pytest.raises(JsonPathError) as info:
        compile_jsonpath(expression)
    assert "position" in str(info.value)
