"""Which User-Agents are robots: crawlers, scripts and headless browsers.

crawlerdetect decides with two of Python's regular expressions, both case-insensitive: it
removes from the agent every token browsers send (its "exclusions"), then looks for any of
its crawler patterns in what is left. Python's `re` backtracks: a crafted agent of 500
letters takes it tens of milliseconds. Here the same two steps run in RE2, whose time is
linear in the agent's length, on the agent folded to a small byte alphabet on which RE2's
case-sensitive matching gives Python's case-insensitive answer, character by character:

- an ASCII letter is lowercased, and so are the four other characters Python's IGNORECASE
  takes for ASCII letters: U+0130 and U+0131 (i), U+017F (s), U+212A (k);
- any other non-ASCII character becomes DIGIT if Python's `\\d` takes it (a decimal digit of
  another script), OTHER if not: the patterns are ASCII, so such a character matches only
  `.` (and `\\d`), never a literal or a class of ASCII characters;
- the patterns are translated to match: letters lowercased, `\\d` the ASCII digits and
  DIGIT, `$` the end or a newline at the end (as in Python), and the one look-ahead
  `X(?!word)` at a pattern's end (`Yandex(?!Search)`) X followed by the end of the agent or
  by anything that parts from the word before it is complete.

tests/test_bots.py proves the folding over every code point for every piece of the
patterns, and compares the answers with crawlerdetect's on generated agents.
"""

from __future__ import annotations

import re
from functools import lru_cache

import re2
from crawlerdetect.providers.crawlers import data as CRAWLER_PATTERNS
from crawlerdetect.providers.exclusions import data as EXCLUSION_PATTERNS

# distinct User-Agents whose answers each process keeps: at most 18 MiB with agents at the
# length cap, 5 MiB of ASCII ones (bench/caches.py); an answer not kept costs microseconds
MAX_CACHED_AGENTS = 8_192
# browsers driven by a program that crawlerdetect's list (of crawlers) does not name
HEADLESS = re.compile(r"headless|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs", re.I)

DIGIT = 0x80  # what a non-ASCII decimal digit is folded to
OTHER = 0x81  # what any other non-ASCII character is folded to
# the non-ASCII characters Python's IGNORECASE takes for ASCII letters
_LETTER_LIKE = {0x130: ord("i"), 0x131: ord("i"), 0x17F: ord("s"), 0x212A: ord("k")}


class _Folding(dict[int, int]):
    """The table of str.translate that folds an agent (see the module's docstring): ASCII
    and the letter-like characters are in the table; any other character is looked up
    without being kept, so that no agent grows the table."""

    def __missing__(self, code: int) -> int:
        return DIGIT if chr(code).isdecimal() else OTHER


_FOLDING = _Folding({code: ord(chr(code).lower()) for code in range(128)} | _LETTER_LIKE)


def fold(agent: str) -> bytes:
    """Return an agent folded to the alphabet the translated patterns are written in."""
    if agent.isascii():
        return agent.lower().encode("ascii")
    return agent.translate(_FOLDING).encode("latin-1")


# a piece of a pattern: an escape, a character class, a look-ahead, or one character
_PIECE = re.compile(r"\\.|\[(?:\\.|[^\]\\])*\]|\(\?!(?P<word>[A-Za-z0-9]+)\)|.", re.S)
# what a character class may hold: escaped punctuation, \d, and ranges within one kind
_CLASS_PART = re.compile(r"\\[^A-Za-z0-9]|\\d|[a-z]-[a-z]|[A-Z]-[A-Z]|[0-9]-[0-9]|[^-\\^]")
_DIGITS = "0-9\\x80"


def _not_followed_by(word: str) -> str:
    """Return RE2 for "not followed by word": the end, or a first difference."""
    ways = []
    for i, char in enumerate(word):
        ways.append(word[:i] + "\\z")
        ways.append(word[:i] + "[^" + char + "]")
    return "(?:" + "|".join(ways) + ")"


def translate(pattern: str) -> str:
    """Return the RE2 pattern that matches the folded agents the Python pattern matches
    (case-insensitively) in the agents themselves. Raise ValueError on what has no exact
    translation here, so that a new construct in crawlerdetect's lists fails at import
    (and in the tests), never gives other answers."""
    out = []
    for piece in _PIECE.finditer(pattern):
        text = piece.group()
        if piece.group("word") is not None:
            if piece.end() != len(pattern):
                raise ValueError(f"a look-ahead before the end of {pattern!r}")
            out.append(_not_followed_by(piece.group("word").lower()))
        elif text.startswith("("):
            if text == "(" and pattern.startswith("?", piece.end()):
                raise ValueError(f"an extension group in {pattern!r}")
            out.append(text)
        elif text.startswith("["):
            body = text[1:-1]
            if not re.fullmatch(f"(?:{_CLASS_PART.pattern})+", body):
                raise ValueError(f"the class {text!r} in {pattern!r}")
            out.append("[" + body.replace("\\d", _DIGITS).lower() + "]")
        elif text == "\\d":
            out.append("[" + _DIGITS + "]")
        elif text.startswith("\\"):
            if text[1].isalnum():
                raise ValueError(f"the escape {text!r} in {pattern!r}")
            out.append(text)
        elif text == "$":
            out.append("(?:\\n?\\z)")  # Python's $: the end, or before a newline at the end
        else:
            out.append(text.lower())
    return "".join(out)


def _compile(patterns: list[str], repeated: bool = False) -> re2._Regexp[bytes]:
    """Compile the alternation of patterns, translated, over folded agents (Latin-1);
    repeated, a run of its matches one after the other."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # type: ignore[attr-defined]  # stubs lack it
    options.max_mem = 64 << 20
    options.never_capture = True
    pattern = "|".join(map(translate, patterns))
    return re2.compile((f"(?:{pattern})+" if repeated else pattern).encode("ascii"), options)


# Python's sub removes the exclusions' matches one by one, each searched from the end of
# the last. A run of them next to each other is removed here in one match: at each place
# RE2, as Python, takes the first alternative that matches and its own greedy choices, and
# a repetition goes on exactly where the next search would have found its match; the text
# left is the same, for far fewer matches (each costs the wrapper microseconds).
_EXCLUSIONS = _compile(EXCLUSION_PATTERNS, repeated=True)
_CRAWLERS = _compile(CRAWLER_PATTERNS)
_HEADLESS = _compile([HEADLESS.pattern])
# RE2's search itself, under the wrapper's (a C++ call each, where the wrapper makes a
# generator and a match object; tests/test_bots.py holds the answers crawlerdetect's)
_MATCH = _EXCLUSIONS._regexp.Match  # type: ignore[attr-defined]
_UNANCHORED, _NO_SPAN = re2._Anchor.UNANCHORED, (-1, -1)  # type: ignore[attr-defined]


def _finds(regexp: re2._Regexp[bytes], text: bytes) -> bool:
    """Tell whether `regexp` matches somewhere in `text` (its wrapper's search, is not None)."""
    found: tuple[int, int] = regexp._regexp.Match(_UNANCHORED, text, 0, len(text))[0]  # type: ignore[attr-defined]
    return found != _NO_SPAN


@lru_cache(maxsize=MAX_CACHED_AGENTS)
def is_bot(user_agent: str) -> bool:
    """Tell whether a User-Agent is a robot's: none at all (every browser sends one), a
    crawler, library or tool of crawlerdetect's maintained list, or a headless browser.
    The answer is crawlerdetect's `is_crawler` exactly, found in a few microseconds
    whatever the agent (see the module's docstring)."""
    agent = fold(user_agent.strip())
    if not agent or _finds(_HEADLESS, agent):
        return True
    rest = _without_exclusions(agent)
    return bool(rest) and _finds(_CRAWLERS, rest)


def _without_exclusions(agent: bytes) -> bytes:
    """Return what the exclusions leave of a folded agent: b"".join(_EXCLUSIONS.split(agent))
    exactly (the wrapper's split, its loop written here over RE2's own Match: the wrapper
    makes a match object per match, and a browser's agent has a dozen: 18 → 5 µs)."""
    pieces: list[bytes] = []
    end = pos = 0
    endpos = len(agent)
    while True:
        span = _MATCH(_UNANCHORED, agent, pos, endpos)[0]
        if span == _NO_SPAN:
            break
        pieces.append(agent[end : span[0]])
        end = span[1]
        if pos == endpos:
            break
        pos = pos + 1 if pos == span[1] else span[1]  # an empty match: move on a byte
    pieces.append(agent[end:])
    return b"".join(pieces)


# RE2 builds the first states of its automata on their first search (some 2 ms for the
# crawlers'): here, once per process, rather than on a visitor's hit
for _agent in ("Googlebot/2.1", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Firefox/120.0 zgrab"):
    is_bot.__wrapped__(_agent)
