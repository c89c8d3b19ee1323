"""The run filter grammar: text → a small syntax tree (no SQL here).

::

    filter     := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" filter ")" | condition
    condition  := field op value
                | field ["not"] "in" "(" value ("," value)* ")"
                | field ["not"] ("like" | "ilike") string
                | field "is" ["not"] "null"
    field      := ("metrics" | "params" | "tags" | "attributes") "." key  |  attribute
    key        := name chars (letters, digits, _ - . / :)  |  "quoted key"  |  `quoted key`
    op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    value      := number | 'string' | "string" | true | false

Keywords are case-insensitive. ``store.run_query`` turns the tree into SQLAlchemy
expressions with bound parameters; values never become SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from keel.core.entities import RunStatus
from keel.core.errors import InvalidInput

FieldKind = Literal["metric", "param", "tag", "attribute"]
Value = str | float | bool
EXAMPLE = "metrics.acc > 0.5 and params.model = 'rf'"

#: Attributes a filter or an order may name, with the type their values compare as.
ATTRIBUTES: dict[str, str] = {
    "id": "text",
    "name": "text",
    "status": "text",
    "kind": "text",
    "experiment": "text",
    "parent_id": "text",
    "user": "text",
    "host": "text",
    "start_time": "time",
    "end_time": "time",
    "duration": "number",
}
_PREFIXES: dict[str, FieldKind] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
}
_KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "is", "null", "true", "false", "asc", "desc"}


@dataclass(frozen=True)
class Field:
    kind: FieldKind
    key: str

    def __str__(self) -> str:
        plural = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}
        return f"{plural[self.kind]}.{self.key}"


@dataclass(frozen=True)
class Comparison:
    field: Field
    op: str  # = != < <= > >= like ilike
    value: Value


@dataclass(frozen=True)
class Membership:
    field: Field
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class NullCheck:
    field: Field
    negated: bool


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or"]
    items: tuple[Node, ...]


Node = Comparison | Membership | NullCheck | Not | BoolOp


@dataclass(frozen=True)
class OrderKey:
    field: Field
    descending: bool


@dataclass(frozen=True)
class _Token:
    kind: str  # field, name, string, number, op, punct, end
    text: str
    pos: int
    value: object = None


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<field>(?P<prefix>[A-Za-z_]+)\.(?:`(?P<bq>[^`]*)`|"(?P<dq>[^"]*)"|(?P<bare>[A-Za-z0-9_][A-Za-z0-9_\-./:]*)))
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)


def _error(text: str, pos: int, problem: str) -> InvalidInput:
    near = text[pos : pos + 12].split("\n", maxsplit=1)[0] or "end of filter"
    return InvalidInput(
        f"Malformed filter at column {pos + 1} (near {near!r}): {problem}. Example: {EXAMPLE}",
        details={"filter": text, "position": pos, "problem": problem},
    )


def _unquote(raw: str) -> str:
    quote = raw[0]
    body = raw[1:-1].replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "'\"`":
                raise _error(text, pos, "this quote is never closed")
            raise _error(text, pos, f"unexpected character {text[pos]!r}")
        kind = match.lastgroup
        if kind in {"bq", "dq", "bare", "prefix"}:
            kind = "field"
        if kind == "field" or match.group("field"):
            prefix = match.group("prefix").lower()
            if prefix not in _PREFIXES:
                raise _error(
                    text,
                    pos,
                    f"unknown field prefix '{match.group('prefix')}'; "
                    "use metrics., params., tags. or attributes.",
                )
            key = match.group("bq")
            if key is None:
                key = match.group("dq")
            if key is None:
                key = match.group("bare")
            if not key:
                raise _error(text, pos, "the key after the dot is empty")
            tokens.append(_Token("field", match.group(0), pos, Field(_PREFIXES[prefix], key)))
        elif kind == "number":
            tokens.append(_Token("number", match.group(0), pos, float(match.group(0))))
        elif kind == "string":
            tokens.append(_Token("string", match.group(0), pos, _unquote(match.group(0))))
        elif kind == "name":
            word = match.group(0)
            lowered = word.lower()
            tokens.append(_Token("keyword" if lowered in _KEYWORDS else "name", word, pos, lowered))
        elif kind in ("op", "punct"):
            tokens.append(_Token(kind, match.group(0), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_keyword(self, *words: str) -> bool:
        return self.token.kind == "keyword" and self.token.value in words

    def fail(self, problem: str, token: _Token | None = None) -> InvalidInput:
        return _error(self.text, (token or self.token).pos, problem)

    def parse_filter(self) -> Node:
        if self.token.kind == "end":
            raise self.fail("the filter is empty")
        node = self.parse_or()
        if self.token.kind != "end":
            if self.token.text == ")":
                raise self.fail("this ')' has no matching '('")
            raise self.fail(f"expected 'and', 'or' or the end, found {self.token.text!r}")
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.is_keyword("or"):
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_not()]
        while self.is_keyword("and"):
            self.advance()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def parse_not(self) -> Node:
        if self.is_keyword("not"):
            self.advance()
            return Not(self.parse_not())
        if self.token.text == "(":
            opening = self.advance()
            node = self.parse_or()
            if self.token.text != ")":
                raise self.fail(f"the '(' at column {opening.pos + 1} is never closed")
            self.advance()
            return node
        return self.parse_condition()

    def parse_field(self) -> tuple[Field, _Token]:
        token = self.advance()
        if token.kind == "field":
            field = token.value
            assert isinstance(field, Field)
        elif token.kind == "name" and token.text.lower() in ATTRIBUTES:
            field = Field("attribute", token.text.lower())
        elif token.kind == "name":
            raise self.fail(
                f"unknown field '{token.text}'; write metrics.{token.text}, params.{token.text}, "
                f"tags.{token.text} or attributes.<{'|'.join(ATTRIBUTES)}>",
                token,
            )
        elif token.kind == "end":
            raise self.fail("expected a field such as metrics.acc", token)
        else:
            raise self.fail(f"expected a field such as metrics.acc, found {token.text!r}", token)
        if field.kind == "attribute" and field.key not in ATTRIBUTES:
            raise self.fail(f"unknown attribute '{field.key}'; attributes are {', '.join(ATTRIBUTES)}", token)
        return field, token

    def parse_value(self, field: Field) -> Value:
        token = self.advance()
        if token.kind == "number":
            assert isinstance(token.value, float)
            value: Value = token.value
        elif token.kind == "string":
            assert isinstance(token.value, str)
            value = token.value
        elif token.kind == "keyword" and token.value in ("true", "false"):
            value = token.value == "true"
        elif token.kind == "end":
            raise self.fail("expected a value (a number or a quoted string)", token)
        else:
            raise self.fail(f"expected a value (a number or a quoted string), found {token.text!r}", token)
        return self.check_value(field, value, token)

    def check_value(self, field: Field, value: Value, token: _Token) -> Value:
        if field.kind == "metric" and not isinstance(value, float):
            raise self.fail(f"{field} is a metric: compare it with a number, not {token.text}", token)
        if field.kind != "attribute":
            return value
        kind = ATTRIBUTES[field.key]
        if kind == "time":
            return _time_value(self, value, token)
        if kind == "number" and not isinstance(value, float):
            raise self.fail(f"{field} is a number of seconds: compare it with a number", token)
        if field.key == "status" and value not in {s.value for s in RunStatus}:
            statuses = ", ".join(s.value for s in RunStatus)
            raise self.fail(f"unknown status {token.text}; statuses are {statuses}", token)
        if kind == "text" and not isinstance(value, str):
            raise self.fail(f"{field} is text: compare it with a quoted string", token)
        return value

    def parse_condition(self) -> Node:
        field, field_token = self.parse_field()
        token = self.token
        negated = False
        if self.is_keyword("is"):
            self.advance()
            if self.is_keyword("not"):
                self.advance()
                negated = True
            if not self.is_keyword("null"):
                raise self.fail("expected 'null' after 'is'")
            self.advance()
            return NullCheck(field, negated)
        if self.is_keyword("not"):
            self.advance()
            negated = True
            if not self.is_keyword("in", "like", "ilike"):
                raise self.fail("expected 'in', 'like' or 'ilike' after 'not'")
        if self.is_keyword("in"):
            self.advance()
            if self.token.text != "(":
                raise self.fail("expected '(' after 'in', as in: params.model in ('rf', 'gb')")
            self.advance()
            values = [self.parse_value(field)]
            while self.token.text == ",":
                self.advance()
                values.append(self.parse_value(field))
            if self.token.text != ")":
                raise self.fail("expected ',' or ')' in the list of values")
            self.advance()
            return Membership(field, tuple(values), negated)
        if self.is_keyword("like", "ilike"):
            op = str(self.advance().value)
            if field.kind == "metric" or (field.kind == "attribute" and ATTRIBUTES[field.key] != "text"):
                raise self.fail(f"'{op}' compares text; {field} is a number", token)
            pattern = self.advance()
            if pattern.kind != "string":
                raise self.fail(
                    f"expected a quoted pattern after '{op}', as in: tags.team like 'ml-%'", pattern
                )
            assert isinstance(pattern.value, str)
            comparison = Comparison(field, op, pattern.value)
            return Not(comparison) if negated else comparison
        if token.kind != "op":
            if token.kind == "end":
                raise self.fail(f"expected a comparison after {field_token.text}, such as > 0.5")
            raise self.fail(f"expected a comparison operator (= != < <= > >=), found {token.text!r}")
        self.advance()
        op = {"==": "=", "<>": "!="}.get(token.text, token.text)
        value = self.parse_value(field)
        if isinstance(value, bool) and op not in ("=", "!="):
            raise self.fail(f"true/false only compare with = or !=, not {token.text}", token)
        return Comparison(field, op, value)


def _time_value(parser: _Parser, value: Value, token: _Token) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise parser.fail(
                f"{token.text} is not a time; use ISO 8601 ('2026-11-29' or "
                "'2026-11-29T14:00:00+00:00') or seconds since the epoch",
                token,
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    raise parser.fail("times compare with a date string or a number", token)


def parse_filter(text: str) -> Node:
    """Parse a run filter; raise :class:`InvalidInput` pointing at the offending column."""
    return _Parser(text).parse_filter()


def parse_order_by(items: Sequence[str] | str) -> tuple[OrderKey, ...]:
    """Parse ``["metrics.acc desc", "attributes.start_time"]`` (or ``-metrics.acc``)."""
    if isinstance(items, str):
        items = [items]
    keys: list[OrderKey] = []
    for item in items:
        text = item.strip()
        descending = False
        if text.startswith("-"):
            descending, text = True, text[1:]
        elif text.startswith("+"):
            text = text[1:]
        parser = _Parser(text)
        if parser.token.kind == "end":
            raise _error(item, 0, "the order is empty; write e.g. 'metrics.acc desc'")
        field, _ = parser.parse_field()
        if parser.is_keyword("asc", "desc"):
            descending = parser.advance().value == "desc"
        if parser.token.kind != "end":
            raise parser.fail(f"expected 'asc', 'desc' or the end, found {parser.token.text!r}")
        keys.append(OrderKey(field, descending))
    return tuple(keys)
