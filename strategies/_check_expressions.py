"""Parse the common forms of PostgreSQL CHECK constraints into Python predicates and hints.

CHECK constraints are SQL text and we cannot evaluate arbitrary SQL in Python. This module
recognises a deliberately small expression language -- comparisons, AND/OR/NOT, IN lists and
``= ANY (ARRAY[...])``, IS [NOT] NULL, BETWEEN, and the functions char_length/length/
character_length/btrim/trim/ltrim/rtrim/lower/upper/abs -- which covers what applications
write in practice (and what ``pg_get_constraintdef`` prints for it). Anything else raises
`UnrecognisedCheck`, and the caller reports the constraint as not generated (or filters
candidates through the database). Hand-written because no library parses PostgreSQL
expressions into something evaluable; sqlglot could parse but not evaluate with PG semantics.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


class UnrecognisedCheck(ValueError):
    """The CHECK expression uses a form this module does not understand."""


# ---------------------------------------------------------------------------- tokenizer

_CAST = re.compile(
    r"::\s*(?:\"[^\"]+\"|character varying|double precision|bit varying|"
    r"timestamp with(?:out)? time zone|time with(?:out)? time zone|[a-z_][a-z0-9_.]*)"
    r"(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])?",
    re.IGNORECASE,
)
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|(?P<str>'(?:[^']|'')*')"
    r"|(?P<qid>\"(?:[^\"]|\"\")+\")|(?P<id>[A-Za-z_][A-Za-z0-9_$]*)"
    r"|(?P<op>!~\*|~\*|!~|~|<>|!=|<=|>=|=|<|>|\(|\)|,|\[|\]|\.|-|\+))"
)


def normalise(sql: str) -> str:
    """Strip ``CHECK``/``NOT VALID`` and type casts from a constraint definition."""
    text = sql.strip()
    text = re.sub(r"^CHECK\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+NOT\s+VALID\s*$", "", text, flags=re.IGNORECASE)
    # `'5'::integer` -> `'5'`; numeric strings are turned back into numbers by the parser.
    return _CAST.sub("", text)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise UnrecognisedCheck(f"cannot tokenise {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


# ---------------------------------------------------------------------------- AST

Node = tuple[Any, ...]
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "between", "any", "array", "true", "false"}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "char_length": len,
    "character_length": len,
    "length": len,
    # PostgreSQL's one-argument trims remove spaces only, not all whitespace.
    "btrim": lambda s: s.strip(" "),
    "trim": lambda s: s.strip(" "),
    "ltrim": lambda s: s.lstrip(" "),
    "rtrim": lambda s: s.rstrip(" "),
    "lower": lambda s: s.lower(),
    "upper": lambda s: s.upper(),
    "abs": abs,
}


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.toks = tokens
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def kw(self, word: str) -> bool:
        kind, val = self.peek()
        if kind == "id" and val.lower() == word:
            self.i += 1
            return True
        return False

    def op(self, sym: str) -> bool:
        if self.peek() == ("op", sym):
            self.i += 1
            return True
        return False

    def expect(self, sym: str) -> None:
        if not self.op(sym):
            raise UnrecognisedCheck(f"expected {sym!r}, got {self.peek()[1]!r}")

    def parse(self) -> Node:
        node = self.or_()
        if self.peek()[0] != "eof":
            raise UnrecognisedCheck(f"unexpected {self.peek()[1]!r}")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.kw("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else ("or", items)

    def and_(self) -> Node:
        items = [self.not_()]
        while self.kw("and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else ("and", items)

    def not_(self) -> Node:
        if self.kw("not"):
            return ("not", self.not_())
        return self.predicate()

    def predicate(self) -> Node:
        left = self.additive()
        kind, val = self.peek()
        if kind == "op" and val in {"~", "!~", "~*", "!~*"}:
            self.i += 1
            right = self.additive()
            if right[0] != "lit" or not isinstance(right[1], str):
                raise UnrecognisedCheck("regex match against a non-literal")
            return ("regex", val, left, simple_regex(right[1]))
        if kind == "op" and val in {"=", "<>", "!=", "<", "<=", ">", ">="}:
            self.i += 1
            op = "<>" if val == "!=" else val
            if self.kw("any"):
                self.expect("(")
                arr = self.additive()
                self.expect(")")
                if arr[0] != "array":
                    raise UnrecognisedCheck("ANY over something other than ARRAY[...]")
                if op == "=":
                    return ("in", left, arr[1], False)
                raise UnrecognisedCheck(f"{op} ANY")
            return ("cmp", op, left, self.additive())
        negated = False
        if self.peek()[0] == "id" and self.peek()[1].lower() == "not" and self.peek(1)[
            1
        ].lower() in {"in", "between"}:
            self.i += 1
            negated = True
        if self.kw("in"):
            self.expect("(")
            items = [self.additive()]
            while self.op(","):
                items.append(self.additive())
            self.expect(")")
            return ("in", left, items, negated)
        if self.kw("between"):
            low = self.additive()
            if not self.kw("and"):
                raise UnrecognisedCheck("BETWEEN without AND")
            high = self.additive()
            node: Node = ("and", [("cmp", ">=", left, low), ("cmp", "<=", left, high)])
            return ("not", node) if negated else node
        if self.kw("is"):
            neg = self.kw("not")
            if not self.kw("null"):
                raise UnrecognisedCheck("IS without NULL")
            return ("isnull", left, neg)
        return left

    def additive(self) -> Node:
        node = self.unary()
        while self.peek() in {("op", "+"), ("op", "-")}:
            sym = self.peek()[1]
            self.i += 1
            node = ("arith", sym, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.op("-"):
            inner = self.unary()
            if inner[0] == "lit" and isinstance(inner[1], int | Decimal):
                return ("lit", -inner[1])
            return ("arith", "-", ("lit", 0), inner)
        return self.atom()

    def atom(self) -> Node:
        kind, val = self.peek()
        if kind == "op" and val == "(":
            self.i += 1
            node = self.or_()
            self.expect(")")
            return node
        if kind == "num":
            self.i += 1
            return ("lit", int(val) if val.isdigit() else Decimal(val))
        if kind == "str":
            self.i += 1
            text = val[1:-1].replace("''", "'")
            if re.fullmatch(r"-?\d+", text):  # '-5'::integer after cast stripping
                return ("lit", int(text))
            if re.fullmatch(r"-?(\d+\.\d*|\.\d+)", text):
                return ("lit", Decimal(text))
            return ("lit", text)
        if kind in {"id", "qid"}:
            self.i += 1
            name = val[1:-1].replace('""', '"') if kind == "qid" else val
            low = name.lower()
            if kind == "id" and low == "array" and self.op("["):
                items = [self.additive()]
                while self.op(","):
                    items.append(self.additive())
                self.expect("]")
                return ("array", items)
            if kind == "id" and low in {"true", "false"}:
                return ("lit", low == "true")
            if kind == "id" and low == "null":
                return ("lit", None)
            if self.op("("):
                return self.call(low)
            if kind == "id" and low in _KEYWORDS:
                raise UnrecognisedCheck(f"unexpected keyword {name!r}")
            while self.op("."):  # table.column -> column
                name = self.peek()[1].strip('"')
                self.i += 1
            return ("col", name if kind == "qid" else name.lower())
        raise UnrecognisedCheck(f"unexpected {val!r}")

    def call(self, name: str) -> Node:
        if name == "trim":  # TRIM(BOTH FROM x) / TRIM(x)
            self.kw("both")
            self.kw("from")
        args = [self.additive()]
        while self.op(","):
            args.append(self.additive())
        self.expect(")")
        if name not in FUNCTIONS or len(args) != 1:
            raise UnrecognisedCheck(f"function {name}() with {len(args)} argument(s)")
        return ("call", "btrim" if name == "trim" else name, args[0])


_REGEX_SAFE = re.compile(r"(?:\\u[0-9a-fA-F]{4}|\\[^A-Za-z0-9]|[^\\])*")


def simple_regex(pattern: str) -> str:
    """Return `pattern` if Python's `re` reads it as PostgreSQL's ARE does, else raise.

    Accepted: literals, bracket expressions without POSIX classes, anchors, quantifiers and
    ``\\uXXXX`` escapes. Rejected: class escapes (\\d \\s \\w and PostgreSQL's \\m \\y ...),
    whose meaning depends on the locale or differs between the engines.
    """
    if "[[:" in pattern or "(?" in pattern or not _REGEX_SAFE.fullmatch(pattern):
        raise UnrecognisedCheck(f"regular expression {pattern!r} is not in the safe subset")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UnrecognisedCheck(f"regular expression {pattern!r}: {exc}") from None
    return pattern


def bracket_set(pattern: str) -> frozenset[str] | None:
    """For a pattern ``[^BODY]`` return the characters BODY lists (else None)."""
    m = re.fullmatch(r"\[\^((?:\\u[0-9a-fA-F]{4}|\\.|[^\]\\])+)\]", pattern)
    if m is None:
        return None
    items: list[str] = []
    for tok in re.findall(r"\\u[0-9a-fA-F]{4}|\\.|.", m.group(1), flags=re.DOTALL):
        if tok.startswith("\\u"):
            items.append(chr(int(tok[2:], 16)))
        elif tok.startswith("\\"):
            items.append(tok[1])
        else:
            items.append(tok)
    out: set[str] = set()
    i = 0
    while i < len(items):
        if i + 2 < len(items) and items[i + 1] == "-":
            out.update(chr(c) for c in range(ord(items[i]), ord(items[i + 2]) + 1))
            i += 3
        else:
            out.add(items[i])
            i += 1
    return frozenset(out)


def parse(sql: str) -> Node:
    """Parse a CHECK expression (with or without ``CHECK``); raise `UnrecognisedCheck`."""
    return _Parser(_tokens(normalise(sql))).parse()


# ---------------------------------------------------------------------------- evaluation


def _cmp(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    if isinstance(a, str) != isinstance(b, str):
        raise UnrecognisedCheck(f"comparing {a!r} with {b!r}")
    result: bool
    if op == "=":
        result = a == b
    elif op == "<>":
        result = a != b
    elif op == "<":
        result = a < b
    elif op == "<=":
        result = a <= b
    elif op == ">":
        result = a > b
    else:
        result = a >= b
    return result


def evaluate(node: Node, row: Mapping[str, Any]) -> Any:
    """Evaluate `node` over `row` with SQL three-valued logic (None is NULL/unknown).

    String comparisons use Python code-point order, which is PostgreSQL's only under the
    "C" collation; checks comparing strings with < or > are therefore not recognised.
    """
    tag = node[0]
    if tag == "lit":
        return node[1]
    if tag == "col":
        if node[1] not in row:
            raise KeyError(node[1])
        return row[node[1]]
    if tag == "call":
        arg = evaluate(node[2], row)
        return None if arg is None else FUNCTIONS[node[1]](arg)
    if tag == "arith":
        a, b = evaluate(node[2], row), evaluate(node[3], row)
        if a is None or b is None:
            return None
        return a + b if node[1] == "+" else a - b
    if tag == "cmp":
        a, b = evaluate(node[2], row), evaluate(node[3], row)
        if node[1] in {"<", "<=", ">", ">="} and isinstance(a, str):
            raise UnrecognisedCheck("ordering comparison on text depends on collation")
        return _cmp(node[1], a, b)
    if tag == "regex":
        value = evaluate(node[2], row)
        if value is None:
            return None
        flags = re.IGNORECASE if "*" in node[1] else 0
        hit = re.search(node[3], value, flags) is not None
        return (not hit) if node[1].startswith("!") else hit
    if tag == "isnull":
        value = evaluate(node[1], row)
        return (value is not None) if node[2] else (value is None)
    if tag == "in":
        value = evaluate(node[1], row)
        if value is None:
            return None
        hit = any(value == evaluate(item, row) for item in node[2])
        return (not hit) if node[3] else hit
    if tag == "not":
        inner = evaluate(node[1], row)
        return None if inner is None else not inner
    if tag == "and":
        vals = [evaluate(n, row) for n in node[1]]
        if any(v is False for v in vals):
            return False
        return None if any(v is None for v in vals) else True
    if tag == "or":
        vals = [evaluate(n, row) for n in node[1]]
        if any(v is True for v in vals):
            return True
        return None if any(v is None for v in vals) else False
    raise UnrecognisedCheck(f"cannot evaluate {tag}")


def passes(node: Node, row: Mapping[str, Any]) -> bool:
    """True when a CHECK over `node` accepts `row` (PostgreSQL accepts TRUE and NULL)."""
    return evaluate(node, row) is not False


def columns_of(node: Node) -> set[str]:
    """Return the column names `node` refers to."""
    if node[0] == "col":
        return {node[1]}
    out: set[str] = set()
    for part in node[1:]:
        if isinstance(part, tuple):
            out |= columns_of(part)
        elif isinstance(part, list):
            for item in part:
                out |= columns_of(item)
    return out


# ---------------------------------------------------------------------------- hints


@dataclass
class Hints:
    """What the conjunction atoms of a CHECK say about single columns (for generation)."""

    min_length: dict[str, int] = field(default_factory=dict)
    max_length: dict[str, int] = field(default_factory=dict)
    not_blank: set[str] = field(default_factory=set)
    lower: dict[str, tuple[Any, bool]] = field(default_factory=dict)  # (bound, inclusive)
    upper: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    allowed: dict[str, list[Any]] = field(default_factory=dict)
    not_null: set[str] = field(default_factory=set)
    # col ~ '[^SET]': the value must hold a character outside SET ("not blank" spelled as
    # a regex); a string made only of SET characters breaks it.
    blank_sets: dict[str, frozenset[str]] = field(default_factory=dict)
    relations: list[tuple[str, str, str]] = field(default_factory=list)  # (col, op, col)
    other: list[Node] = field(default_factory=list)  # atoms only usable as filters


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}
_LEN = {"char_length", "character_length", "length"}


def _tighten(
    store: dict[str, tuple[Any, bool]], col: str, bound: Any, incl: bool, lo: bool
) -> None:
    old = store.get(col)
    if old is None:
        store[col] = (bound, incl)
        return
    ob = old[0]
    if (lo and (bound > ob or (bound == ob and not incl))) or (
        not lo and (bound < ob or (bound == ob and not incl))
    ):
        store[col] = (bound, incl)


def hints(node: Node) -> Hints:
    """Split `node` into AND-ed atoms and classify each one (see `Hints`)."""
    h = Hints()
    atoms = node[1] if node[0] == "and" else [node]
    for atom in atoms:
        if not _hint_atom(atom, h):
            h.other.append(atom)
    return h


def _hint_atom(atom: Node, h: Hints) -> bool:
    if atom[0] == "and":
        sub = hints(atom)
        h.min_length.update(sub.min_length)
        h.max_length.update(sub.max_length)
        h.not_blank |= sub.not_blank
        h.lower.update(sub.lower)
        h.upper.update(sub.upper)
        h.allowed.update(sub.allowed)
        h.not_null |= sub.not_null
        h.blank_sets.update(sub.blank_sets)
        h.relations += sub.relations
        h.other += sub.other
        return True
    if atom[0] == "isnull" and atom[2] and atom[1][0] == "col":
        h.not_null.add(atom[1][1])
        return True
    if atom[0] == "in" and not atom[3] and atom[1][0] == "col":
        if all(item[0] == "lit" for item in atom[2]):
            h.allowed[atom[1][1]] = [item[1] for item in atom[2]]
            return True
        return False
    if atom[0] == "regex" and atom[1] == "~" and atom[2][0] == "col":
        chars = bracket_set(atom[3])
        if chars is not None:
            h.blank_sets[atom[2][1]] = chars
            return True
        return False
    if atom[0] != "cmp":
        return False
    op, left, right = atom[1], atom[2], atom[3]
    if left[0] == "lit" and right[0] != "lit":
        op, left, right = _FLIP[op], right, left
    # btrim(x) <> ''
    if (
        left[0] == "call"
        and left[1] == "btrim"
        and left[2][0] == "col"
        and op == "<>"
        and right == ("lit", "")
    ):
        h.not_blank.add(left[2][1])
        return True
    # length(btrim(x)) > 0 / >= 1
    if (
        left[0] == "call"
        and left[1] in _LEN
        and left[2][0] == "call"
        and left[2][1] == "btrim"
        and left[2][2][0] == "col"
        and ((op == ">" and right == ("lit", 0)) or (op == ">=" and right == ("lit", 1)))
    ):
        h.not_blank.add(left[2][2][1])
        return True
    # char_length(x) op n
    if left[0] == "call" and left[1] in _LEN and left[2][0] == "col" and right[0] == "lit":
        col, n = left[2][1], right[1]
        if not isinstance(n, int):
            return False
        if op in {">=", ">"}:
            h.min_length[col] = max(h.min_length.get(col, 0), n + (op == ">"))
            return True
        if op in {"<=", "<"}:
            new = n - (op == "<")
            h.max_length[col] = min(h.max_length.get(col, new), new)
            return True
        if op == "=":
            h.min_length[col] = n
            h.max_length[col] = n
            return True
        return False
    if left[0] == "col" and right[0] == "lit" and isinstance(right[1], int | Decimal | float):
        col, bound = left[1], right[1]
        if isinstance(bound, bool):
            return False
        if op in {">", ">="}:
            _tighten(h.lower, col, bound, op == ">=", lo=True)
            return True
        if op in {"<", "<="}:
            _tighten(h.upper, col, bound, op == "<=", lo=False)
            return True
        if op == "=":
            h.allowed[col] = [bound]
            return True
        return False
    if left[0] == "col" and right[0] == "col" and op in {"<", "<=", ">", ">="}:
        h.relations.append((left[1], op, right[1]))
        return True
    return False
