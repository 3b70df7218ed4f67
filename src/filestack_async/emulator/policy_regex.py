"""Policy regexes (``path``, ``container``, ``url``) matched without backtracking.

Python's `re` backtracks: a pattern such as ``(a+)+b`` takes exponential time on a
subject of ``a``s, and it holds the GIL while it runs, so neither the event loop nor
a worker thread would answer anyone else. A policy comes from whoever signs it, so
the emulator matches policy patterns with its own engine instead: the pattern is
parsed into a Thompson NFA and the subject is run through it once, in time bounded
by ``len(subject) * states``. The pattern (`MAX_PATTERN` characters), the subject
(`MAX_SUBJECT`), the automaton (`MAX_STATES`) and their product (`MAX_WORK`) are
all bounded.

Supported: literals and escapes, ``.``, classes (``[a-z]``, ``[^/]``, ``\\d \\w \\s``
and their negations), groups (``(...)``, ``(?:...)``, ``(?P<name>...)``),
alternation, ``* + ? {m} {m,} {m,n}`` (lazy or not: a full match is the same), and
``^``/``$`` at the ends of the pattern. Anything else (back-references,
look-arounds, inline flags, possessive quantifiers...) raises `PatternError`, so a
policy using it is refused with a message naming the construct.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

#: longest pattern evaluated
MAX_PATTERN = 256
#: longest subject (a store path, container or URL) matched
MAX_SUBJECT = 4096
#: most automaton states (counted repeats are expanded)
MAX_STATES = 2000
#: most steps for one match (subject length times states)
MAX_WORK = 2_000_000
#: largest bound of a counted repeat
MAX_REPEAT = 1000

CharTest = Callable[[str], bool]


class PatternError(ValueError):
    """A policy pattern the emulator will not evaluate; the message says why."""


# -- parsing: pattern text to a small syntax tree ------------------------------------

_CLASS_ESCAPES: dict[str, CharTest] = {
    "d": str.isdecimal,
    "D": lambda c: not c.isdecimal(),
    "w": lambda c: c.isalnum() or c == "_",
    "W": lambda c: not (c.isalnum() or c == "_"),
    "s": str.isspace,
    "S": lambda c: not c.isspace(),
}
_CHAR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}


def _in_range(low: str, high: str) -> CharTest:
    return lambda c: low <= c <= high


@dataclass
class _Node:
    kind: str  # "test", "cat", "alt", "rep"
    test: CharTest | None = None
    children: list[_Node] = field(default_factory=list)
    low: int = 0
    high: int | None = None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def take(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        return char

    def alternation(self) -> _Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else _Node("alt", children=branches)

    def sequence(self) -> _Node:
        items: list[_Node] = []
        while (char := self.peek()) is not None and char not in "|)":
            atom = self.atom()
            items.append(self.quantified(atom))
        return _Node("cat", children=items)

    def atom(self) -> _Node:
        char = self.take()
        if char == "(":
            self.group_prefix()
            inner = self.alternation()
            if self.peek() != ")":
                raise PatternError("an unclosed group")
            self.take()
            return inner
        if char == "[":
            return _Node("test", test=self.char_class())
        if char == ".":
            return _Node("test", test=lambda c: c != "\n")
        if char == "\\":
            return _Node("test", test=self.escape())
        if char in "^$":
            raise PatternError(f"{char!r} is supported only at the ends of the pattern")
        if char in "*+?":
            raise PatternError(f"nothing to repeat before {char!r}")
        return _Node("test", test=char.__eq__)

    def group_prefix(self) -> None:
        if self.peek() != "?":
            return
        rest = self.text[self.pos :]
        if rest.startswith("?:"):
            self.pos += 2
        elif rest.startswith("?P<"):
            end = rest.find(">")
            if end < 0:
                raise PatternError("an unclosed group name")
            self.pos += end + 1
        else:
            raise PatternError(f"the construct '(?{rest[1:2]}' (look-around, flag or reference)")

    def escape(self) -> CharTest:
        if self.peek() is None:
            raise PatternError("a trailing backslash")
        char = self.take()
        if char in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[char]
        if char in _CHAR_ESCAPES:
            return _CHAR_ESCAPES[char].__eq__
        if char.isalnum():
            raise PatternError(f"the escape '\\{char}' (references, anchors and codes)")
        return char.__eq__

    def char_class(self) -> CharTest:
        negated = self.peek() == "^"
        if negated:
            self.take()
        tests: list[CharTest] = []
        first = True
        while True:
            char = self.peek()
            if char is None:
                raise PatternError("an unclosed character class")
            if char == "]" and not first:
                self.take()
                break
            first = False
            low = self.class_char(tests)
            if low is None:
                continue
            if self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.take()
                high = self.class_char(tests)
                if high is None:
                    raise PatternError("a class range ends in a class escape")
                if high < low:
                    raise PatternError(f"the bad class range {low!r}-{high!r}")
                tests.append(_in_range(low, high))
            else:
                tests.append(low.__eq__)

        def matches(c: str) -> bool:
            return any(test(c) for test in tests) != negated

        return matches

    def class_char(self, tests: list[CharTest]) -> str | None:
        """One character of a class, or ``None`` after adding a class escape (``\\d``)."""
        char = self.take()
        if char == "[" and self.peek() in (":", "=", "."):
            raise PatternError("POSIX classes ([:alpha:])")
        if char != "\\":
            return char
        if self.peek() is None:
            raise PatternError("a trailing backslash")
        char = self.take()
        if char in _CLASS_ESCAPES:
            tests.append(_CLASS_ESCAPES[char])
            return None
        if char in _CHAR_ESCAPES:
            return _CHAR_ESCAPES[char]
        if char.isalnum():
            raise PatternError(f"the escape '\\{char}' in a class")
        return char

    def quantified(self, atom: _Node) -> _Node:
        bounds = self.quantifier()
        if bounds is None:
            return atom
        low, high = bounds
        if self.peek() == "?":  # lazy: the same language for a full match
            self.take()
        elif self.peek() == "+":
            raise PatternError("possessive quantifiers")
        return _Node("rep", children=[atom], low=low, high=high)

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        if char == "*":
            self.take()
            return 0, None
        if char == "+":
            self.take()
            return 1, None
        if char == "?":
            self.take()
            return 0, 1
        counted = _COUNTED.match(self.text, self.pos)
        if counted is None or not (counted["low"] or counted["comma"]):
            return None
        self.pos = counted.end()
        low = int(counted["low"] or 0)
        high: int | None = low
        if counted["comma"] is not None:
            high = int(counted["high"]) if counted["high"] else None
        if low > MAX_REPEAT or (high is not None and high > MAX_REPEAT):
            raise PatternError(f"a counted repeat above {MAX_REPEAT}")
        if high is not None and high < low:
            raise PatternError("a counted repeat whose maximum is below its minimum")
        return low, high


_COUNTED = re.compile(r"\{(?P<low>\d*)(?P<comma>,(?P<high>\d*))?\}")


# -- the automaton --------------------------------------------------------------------


@dataclass
class _NFA:
    #: per state: epsilon moves
    eps: list[list[int]] = field(default_factory=list)
    #: per state: the character test and the state it leads to, if any
    edge: list[tuple[CharTest, int] | None] = field(default_factory=list)

    def new(self) -> int:
        if len(self.eps) >= MAX_STATES:
            raise PatternError(f"the pattern needs more than {MAX_STATES} states")
        self.eps.append([])
        self.edge.append(None)
        return len(self.eps) - 1

    def build(self, node: _Node, start: int) -> int:
        """Add ``node`` from state ``start``; return its end state."""
        if node.kind == "test":
            assert node.test is not None
            end = self.new()
            self.edge[start] = (node.test, end)
            return end
        if node.kind == "cat":
            for child in node.children:
                start = self.build(child, start)
            return start
        if node.kind == "alt":
            end = self.new()
            for child in node.children:
                branch = self.new()
                self.eps[start].append(branch)
                self.eps[self.build(child, branch)].append(end)
            return end
        child = node.children[0]
        for _ in range(node.low):
            start = self.build(child, start)
        if node.high is None:
            loop = self.new()
            self.eps[start].append(loop)
            body_end = self.build(child, loop)
            self.eps[body_end].append(loop)
            end = self.new()
            self.eps[loop].append(end)
            return end
        end = self.new()
        for _ in range(node.high - node.low):
            self.eps[start].append(end)
            start = self.build(child, start)
        self.eps[start].append(end)
        return end

    def closure(self, states: set[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(states)
        while stack:
            for target in self.eps[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        return frozenset(seen)


@dataclass
class _Compiled:
    nfa: _NFA
    start: frozenset[int]
    accept: int


def _strip_anchors(pattern: str) -> str:
    if pattern.startswith("^"):
        pattern = pattern[1:]
    if pattern.endswith("$"):
        backslashes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
        if backslashes % 2 == 0:
            pattern = pattern[:-1]
    return pattern


@lru_cache(maxsize=256)
def _compile(pattern: str) -> _Compiled:
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"the pattern is longer than {MAX_PATTERN} characters")
    try:
        with warnings.catch_warnings():  # FutureWarning on "[[" and the like
            warnings.simplefilter("ignore")
            re.compile(pattern)  # linear; refuses what Python's re refuses
    except re.error as err:
        raise PatternError(f"the pattern is not a valid regex ({err})") from None
    parser = _Parser(_strip_anchors(pattern))
    tree = parser.alternation()
    if parser.pos != len(parser.text):
        raise PatternError("an unbalanced ')'")
    nfa = _NFA()
    start = nfa.new()
    accept = nfa.build(tree, start)
    return _Compiled(nfa, nfa.closure({start}), accept)


def fullmatch(pattern: str, subject: str) -> bool:
    """True when the whole ``subject`` matches ``pattern`` (as `re.fullmatch` would).

    Raises:
        PatternError: the pattern uses a construct not supported, or the pattern,
            the subject or the work needed is over its bound.
    """
    if len(subject) > MAX_SUBJECT:
        raise PatternError(f"the value is longer than the {MAX_SUBJECT} characters matched")
    compiled = _compile(pattern)
    nfa = compiled.nfa
    if len(subject) * len(nfa.eps) > MAX_WORK:
        raise PatternError("matching this pattern on a value this long is too much work")
    current = compiled.start
    steps: dict[tuple[frozenset[int], str], frozenset[int]] = {}
    for char in subject:
        key = (current, char)
        following = steps.get(key)
        if following is None:
            moved = set()
            for state in current:
                edge = nfa.edge[state]
                if edge is not None and edge[0](char):
                    moved.add(edge[1])
            following = steps[key] = nfa.closure(moved)
        if not following:
            return False
        current = following
    return compiled.accept in current
