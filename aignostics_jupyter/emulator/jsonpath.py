"""A small PostgreSQL-style JSONPath (lax mode) for the ``custom_metadata`` filters of runs and items.

The platform evaluates these with PostgreSQL's ``@?`` operator. This module parses the subset clients send and
evaluates it in Python, without ``eval``:

- paths: ``$``, ``@``, ``.key``, ``."quoted key"``, ``.*``, ``[*]``, ``[0]``, ``[last]``, filters ``? (…)``;
  a missing ``$.`` is added (``sdk.note`` means ``$.sdk.note``);
- predicates: ``== != <> < <= > >=``, ``like_regex "re" [flag "imsxq"]``, ``starts with "s"``, ``exists(…)``,
  ``&&``, ``||``, ``!``, parentheses;
- literals: double-quoted strings, numbers, ``true``, ``false``, ``null``.

A bare path matches when it selects anything (``$.sdk.tags ? (@ == "x")``); a predicate at the top level
(``$.sdk.note == "x"``) matches when it is true. Lax mode unwraps arrays for member access, filters and
comparisons, so ``$.sdk.tags ? (@ like_regex "^x$")`` tests each tag.

Example:
    >>> compile_jsonpath('$.sdk.note == "x"').matches({"sdk": {"note": "x"}})
    True
    >>> compile_jsonpath('sdk.tags[*] ? (@ like_regex "^A" flag "i")').matches({"sdk": {"tags": ["b", "a1"]}})
    True
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonPathError", "JsonPathExpression", "compile_jsonpath"]


class JsonPathError(ValueError):
    """The expression is not valid in the supported JSONPath subset.

    Attributes:
        position: Offset in the expression where the problem was found.
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.position = position


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<op>==|!=|<>|<=|>=|&&|\|\||[<>!$@.\[\]*(),?])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"true", "false", "null", "like_regex", "flag", "starts", "with", "exists", "last"}
_FLAGS = {"i": re.IGNORECASE, "s": re.DOTALL, "m": re.MULTILINE, "x": re.VERBOSE}
_MISSING = object()


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            raise JsonPathError(f"unexpected character {text[start]!r}", start)
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), body)


# ----------------------------------------------------------------------------------------------------- AST nodes


@dataclass(frozen=True)
class _Path:
    root: str  # "$" or "@"
    steps: tuple[tuple[str, Any], ...]

    def evaluate(self, document: Any, current: Any) -> list[Any]:
        items = [document if self.root == "$" else current]
        for kind, arg in self.steps:
            items = _apply_step(items, kind, arg, document)
        return items


@dataclass(frozen=True)
class _Literal:
    value: Any

    def evaluate(self, document: Any, current: Any) -> list[Any]:
        return [self.value]


@dataclass(frozen=True)
class _Compare:
    op: str
    left: _Path | _Literal
    right: _Path | _Literal

    def test(self, document: Any, current: Any) -> bool:
        lefts = _unwrap(self.left.evaluate(document, current))
        rights = _unwrap(self.right.evaluate(document, current))
        return any(_compare(self.op, a, b) for a in lefts for b in rights)


@dataclass(frozen=True)
class _Regex:
    operand: _Path | _Literal
    pattern: re.Pattern[str]

    def test(self, document: Any, current: Any) -> bool:
        values = _unwrap(self.operand.evaluate(document, current))
        return any(isinstance(v, str) and self.pattern.search(v) is not None for v in values)


@dataclass(frozen=True)
class _StartsWith:
    operand: _Path | _Literal
    prefix: str

    def test(self, document: Any, current: Any) -> bool:
        values = _unwrap(self.operand.evaluate(document, current))
        return any(isinstance(v, str) and v.startswith(self.prefix) for v in values)


@dataclass(frozen=True)
class _Exists:
    path: _Path

    def test(self, document: Any, current: Any) -> bool:
        return bool(self.path.evaluate(document, current))


@dataclass(frozen=True)
class _Bool:
    op: str  # "and", "or", "not"
    parts: tuple[Any, ...]

    def test(self, document: Any, current: Any) -> bool:
        if self.op == "not":
            return not self.parts[0].test(document, current)
        if self.op == "and":
            return all(p.test(document, current) for p in self.parts)
        return any(p.test(document, current) for p in self.parts)


def _unwrap(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        out.extend(value if isinstance(value, list) else [value])
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _compare(op: str, a: Any, b: Any) -> bool:
    if _kind(a) != _kind(b) or _kind(a) in ("dict", "list"):
        return False
    if op == "==":
        return bool(a == b)
    if op in ("!=", "<>"):
        return bool(a != b)
    if _kind(a) in ("null", "bool"):
        return False
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


def _apply_step(items: list[Any], kind: str, arg: Any, document: Any) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if kind == "key":
            targets = item if isinstance(item, list) else [item]
            out.extend(t[arg] for t in targets if isinstance(t, dict) and arg in t)
        elif kind == "members":
            targets = item if isinstance(item, list) else [item]
            for target in targets:
                if isinstance(target, dict):
                    out.extend(target.values())
        elif kind == "elements":
            out.extend(item if isinstance(item, list) else [item])
        elif kind == "index":
            seq = item if isinstance(item, list) else [item]
            index = len(seq) - 1 if arg == "last" else int(arg)
            if 0 <= index < len(seq):
                out.append(seq[index])
        else:  # filter
            candidates = item if isinstance(item, list) else [item]
            out.extend(c for c in candidates if arg.test(document, c))
    return out


# ----------------------------------------------------------------------------------------------------- the parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0  # inside filters, where '@' is the current item

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> _Token:
        if self.token.text != text:
            found = self.token.text or "the end"
            raise JsonPathError(f"expected {text!r} but found {found!r}", self.token.pos)
        return self.take()

    def parse(self) -> Any:
        node = self.parse_or()
        if self.token.kind != "end":
            raise JsonPathError(f"unexpected {self.token.text!r}", self.token.pos)
        return node

    def parse_or(self) -> Any:
        parts = [self.parse_and()]
        while self.token.text == "||":
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else _Bool("or", tuple(self._predicate(p) for p in parts))

    def parse_and(self) -> Any:
        parts = [self.parse_unary()]
        while self.token.text == "&&":
            self.take()
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else _Bool("and", tuple(self._predicate(p) for p in parts))

    def parse_unary(self) -> Any:
        if self.token.text == "!":
            self.take()
            self.expect("(")
            inner = self.parse_or()
            self.expect(")")
            return _Bool("not", (self._predicate(inner),))
        if self.token.text == "(":
            self.take()
            inner = self.parse_or()
            self.expect(")")
            return inner
        if self.token.text == "exists":
            self.take()
            self.expect("(")
            path = self.parse_operand()
            self.expect(")")
            if not isinstance(path, _Path):
                raise JsonPathError("exists() needs a path", self.token.pos)
            return _Exists(path)
        left = self.parse_operand()
        token = self.token
        if token.text in ("==", "!=", "<>", "<", "<=", ">", ">="):
            self.take()
            return _Compare(token.text, left, self.parse_operand())
        if token.text == "like_regex":
            self.take()
            return _Regex(left, self.parse_regex())
        if token.text == "starts":
            self.take()
            self.expect("with")
            prefix = self.take()
            if prefix.kind != "string":
                raise JsonPathError("starts with needs a string", prefix.pos)
            return _StartsWith(left, _unescape(prefix.text))
        if isinstance(left, _Literal):
            raise JsonPathError("a literal on its own is not a condition", token.pos)
        return left

    def parse_regex(self) -> re.Pattern[str]:
        literal = self.take()
        if literal.kind != "string":
            raise JsonPathError("like_regex needs a double-quoted pattern", literal.pos)
        pattern = _unescape(literal.text)
        flags = 0
        if self.token.text == "flag":
            self.take()
            flag_token = self.take()
            if flag_token.kind != "string":
                raise JsonPathError("flag needs a double-quoted string", flag_token.pos)
            for flag in _unescape(flag_token.text):
                if flag == "q":
                    pattern = re.escape(pattern)
                elif flag in _FLAGS:
                    flags |= _FLAGS[flag]
                else:
                    raise JsonPathError(f"unknown regex flag {flag!r}", flag_token.pos)
        try:
            return re.compile(pattern, flags)
        except re.error as exc:
            raise JsonPathError(f"invalid regular expression: {exc}", literal.pos) from exc

    def parse_operand(self) -> _Path | _Literal:
        token = self.token
        if token.kind == "string":
            self.take()
            return _Literal(_unescape(token.text))
        if token.kind == "number":
            self.take()
            number = float(token.text)
            return _Literal(int(number) if number.is_integer() and "." not in token.text else number)
        if token.kind == "name" and token.text in ("true", "false", "null"):
            self.take()
            return _Literal({"true": True, "false": False, "null": None}[token.text])
        if token.text in ("$", "@"):
            if token.text == "@" and self.depth == 0:
                raise JsonPathError("'@' is only allowed inside a filter", token.pos)
            self.take()
            return self.parse_steps(token.text)
        if token.kind == "name" and token.text not in _KEYWORDS and self.depth == 0:
            # The platform adds a missing "$." to root-level field references.
            return self.parse_steps("$", implicit_key=True)
        found = token.text or "the end"
        raise JsonPathError(f"expected a path or a literal but found {found!r}", token.pos)

    def parse_steps(self, root: str, *, implicit_key: bool = False) -> _Path:
        steps: list[tuple[str, Any]] = []
        if implicit_key:
            steps.append(("key", self.take().text))
        while True:
            token = self.token
            if token.text == ".":
                self.take()
                name = self.take()
                if name.text == "*":
                    steps.append(("members", None))
                elif name.kind == "name":
                    steps.append(("key", name.text))
                elif name.kind == "string":
                    steps.append(("key", _unescape(name.text)))
                else:
                    raise JsonPathError("expected a member name after '.'", name.pos)
            elif token.text == "[":
                self.take()
                inner = self.take()
                if inner.text == "*":
                    steps.append(("elements", None))
                elif inner.kind == "number" and inner.text.isdigit():
                    steps.append(("index", int(inner.text)))
                elif inner.text == "last":
                    steps.append(("index", "last"))
                else:
                    raise JsonPathError("expected '*', an index or 'last' in brackets", inner.pos)
                self.expect("]")
            elif token.text == "?":
                self.take()
                self.expect("(")
                self.depth += 1
                condition = self._predicate(self.parse_or())
                self.depth -= 1
                self.expect(")")
                steps.append(("filter", condition))
            else:
                return _Path(root, tuple(steps))

    @staticmethod
    def _predicate(node: Any) -> Any:
        return _Exists(node) if isinstance(node, _Path) else node


@dataclass(frozen=True)
class JsonPathExpression:
    """A compiled expression; :meth:`matches` tells whether a JSON document satisfies it."""

    source: str
    node: Any

    def matches(self, document: Any) -> bool:
        """Evaluate against one document (a run's or item's custom metadata).

        Args:
            document: The decoded JSON value (None matches nothing).

        Returns:
            True when the path selects something, or the predicate holds.
        """
        if document is None:
            return False
        if isinstance(self.node, _Path):
            return bool(self.node.evaluate(document, document))
        return bool(self.node.test(document, document))


@functools.lru_cache(maxsize=512)
def compile_jsonpath(text: str) -> JsonPathExpression:
    """Parse an expression of the supported subset.

    Args:
        text: The expression, e.g. ``$.sdk.note ? (@ like_regex "x" flag "i")``.

    Returns:
        The compiled expression.

    Raises:
        JsonPathError: When the expression is empty or outside the supported subset.
    """
    stripped = text.strip()
    if not stripped:
        raise JsonPathError("the expression is empty", 0)
    if stripped.startswith(("lax ", "strict ")):
        raise JsonPathError("lax/strict mode prefixes are not supported", 0)
    return JsonPathExpression(text, _Parser(text).parse())
