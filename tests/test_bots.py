"""The bot check of issue 12: crawlerdetect's answers, found in RE2 in linear time.

Timings are measured by bench/bots.py (docs/benchmarks.md), never asserted here: these
tests pin that the answers are crawlerdetect's own, exactly."""

from __future__ import annotations

import random
import re
import sys

import pytest
import re2
from crawlerdetect import CrawlerDetect
from crawlerdetect.providers.crawlers import data as CRAWLER_PATTERNS
from crawlerdetect.providers.exclusions import data as EXCLUSION_PATTERNS
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bots import BROWSER, crafted_agents, literal_start, sample
from statsvc.core.bots import (
    _EXCLUSIONS,
    HEADLESS,
    _without_exclusions,
    fold,
    is_bot,
    translate,
)
from tests.helpers import examples
from tests.test_abuse import BROWSERS, ROBOTS

PATTERNS = [*CRAWLER_PATTERNS, *EXCLUSION_PATTERNS, HEADLESS.pattern]
# every piece of a pattern that matches one character: what the folding must keep apart
ATOM = re.compile(r"\\.|\[(?:\\.|[^\]\\])*\]|[^()|*+?{}^$]")


def reference(user_agent: str) -> bool:
    """The rule as crawlerdetect (and the headless list) give it, in Python's re."""
    agent = user_agent.strip()
    return not agent or bool(HEADLESS.search(agent)) or CrawlerDetect().is_crawler(agent)


def atoms() -> list[str]:
    """Return every distinct one-character piece of the patterns (look-aheads' words too)."""
    found = {m.group() for p in PATTERNS for m in ATOM.finditer(p.replace("(?!", "("))}
    return sorted(found)


def test_the_folding_keeps_every_piece_of_the_patterns_over_every_code_point() -> None:
    """For every character there is (surrogates too) and every one-character piece of the
    patterns, Python's case-insensitive match of the character is RE2's match of the folded
    character in the translated piece: the proof that the folding loses nothing."""
    text = "".join(map(chr, range(sys.maxunicode + 1)))
    folded = fold(text)
    assert len(folded) == len(text)
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # type: ignore[attr-defined]  # stubs lack it
    for atom in atoms():
        translated = re2.compile(translate(atom).encode("ascii"), options)
        on_folded = bytes(
            ord("1") if translated.fullmatch(bytes([value])) else ord("0") for value in range(256)
        )
        expected = bytearray(b"0" * len(text))
        for match in re.finditer(atom, text, re.IGNORECASE):
            expected[match.start()] = ord("1")
        assert folded.translate(on_folded) == expected, atom


def test_the_letters_python_folds_to_ascii_are_folded() -> None:
    """The four characters Python's IGNORECASE takes for ASCII letters are those letters."""
    assert fold("\u0130\u0131\u017f\u212a") == b"iisk"
    assert fold("\u0663é\u2028\udcff") == bytes([0x80, 0x81, 0x81, 0x81])


@pytest.mark.parametrize(
    "agent",
    [
        "boLinuxt",  # the exclusions removed, what is left reads "bot"
        "spiLinuxder",  # "spider"
        "b0Linuxt",
        "b0t\nLinux",  # ^b0t$: Python's $ before a newline at the end
        "b0t\n",
        "Yandex",
        "YandexSearch",
        "YandexSearc",
        "YandexSearchYandex",
        "Yandex\u017fearchQ",
        "YANDEXSEARCH/1.0",
        "\u017fpider",
        "\u212a\u212aBOT",
        "Go \u0661\u0662. package http",  # a decimal digit of another script in \d
        "\udcffbot",  # a byte that is not UTF-8, as aiohttp hands it over
        "WhereGoes\udcff",
    ],
)
def test_tricky_agents_get_crawlerdetects_answer(agent: str) -> None:
    """Exclusions that join what is left into a crawler's name, the look-ahead, `$`,
    letters of other scripts that Python folds, and digits of other scripts."""
    assert is_bot.__wrapped__(agent) == reference(agent)


def test_removed_exclusions_can_make_a_crawlers_name() -> None:
    """crawlerdetect removes the browsers' tokens before looking for crawlers: what is left
    can name one that the agent itself does not. (The search of the whole agent used as a
    filter missed these.)"""
    assert reference("boLinuxt")
    assert is_bot("boLinuxt")
    assert is_bot("crX11awliPod")


def test_every_pattern_gets_crawlerdetects_answer() -> None:
    """Each pattern made concrete, alone, after a browser's agent and after letters, its
    literal start alone and doubled: the answers are crawlerdetect's."""
    rng = random.Random(12)
    agents = []
    for pattern in PATTERNS:
        text = sample(pattern, rng)
        start = literal_start(pattern)
        agents += [text, BROWSER + " " + text, "xq" + text, start, start * 2, start[:-1]]
    for agent in agents:
        assert is_bot.__wrapped__(agent) == reference(agent), agent


def test_the_crafted_corpus_gets_crawlerdetects_answers() -> None:
    """bench/bots.py's crafted agents (cut to 64 characters, for Python's re to answer in
    time) get crawlerdetect's answers."""
    for agent in crafted_agents(cap=64, mixes=1000):
        assert is_bot.__wrapped__(agent) == reference(agent), agent


def test_a_few_crafted_agents_at_the_length_cap_get_crawlerdetects_answers() -> None:
    """The slowest kind for Python's re, at full length: letters, then a pattern."""
    letters = "".join(random.Random(5).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(512))
    for tail in ["YandexSearch", "Yandex", "bot", "a-", "Safari/1.1", "b0t"]:
        agent = letters[: 512 - len(tail)] + tail
        assert is_bot.__wrapped__(agent) == reference(agent), tail


def test_untranslatable_patterns_are_refused() -> None:
    """A construct with no exact translation here fails loudly, never answers otherwise."""
    for pattern in ["a(?=b)", "(?!x)a", "a(?!x)b", r"\w", r"\bx", "[^a]", "[A-z]", "(?i)x"]:
        with pytest.raises(ValueError):
            translate(pattern)


FRAGMENTS = [
    *(sample(p, random.Random(i)) for i, p in enumerate(PATTERNS)),
    *(literal_start(p) for p in PATTERNS),
    *BROWSERS,
    *ROBOTS,
    "Yandex",
    "Search",
    "\u017f",
    "\u212a",
    "\u0130",
    "\u0131",
    "\u0663",
    "\n",
    "\udcff",
    " ",
    "/",
    "1.",
]


@settings(max_examples=examples(1500), deadline=None)
@given(
    st.lists(
        st.sampled_from(FRAGMENTS)
        | st.text(
            st.sampled_from("botsearchYANDEX0123456789 ./-_;()\u017f\u212a\u0130\u0131\u0663\n"),
            max_size=12,
        )
        | st.text(max_size=6),
        max_size=8,
    ).map("".join)
)
def test_generated_agents_get_crawlerdetects_answer(user_agent: str) -> None:
    """Agents made of the patterns' pieces, browsers' and robots' agents, the characters
    Python folds and random text: the answer is crawlerdetect's; and what the exclusions
    leave (their matches removed by a loop over RE2's own search) is what the wrapper's
    split leaves."""
    assert is_bot.__wrapped__(user_agent) == reference(user_agent)
    agent = fold(user_agent.strip())
    assert _without_exclusions(agent) == b"".join(_EXCLUSIONS.split(agent))
