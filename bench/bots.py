"""Measure how long the bot check takes on crafted User-Agents: the worst and the p99.

Usage: python bench/bots.py [--rounds 3] [--seed 1]

The corpus (crafted_agents) is made to be slow for a backtracking engine, every agent cut
to the length statsvc judges (MAX_USER_AGENT): each crawler and exclusion pattern's
literal start repeated, random letters followed by each pattern, long runs of one
character, the look-ahead's word cut short and repeated, nested repeats of the tokens
the exclusions strip, and random mixes of all of these. Each agent is judged with the
caches cleared (is_bot's, and crawlerdetect's own where the code judged has one), once per
round, in CPU time of the thread (time.thread_time_ns: what the judging costs, not the
other processes of a busy machine), with the collector off. An agent's time is the least of
its rounds; the worst and p99 of those are reported, and the worst of the first round
apart: in a new process RE2 builds the states of its automata as agents reach them, which
costs the first agents to reach a state more (once per process). Run it on another tree
with PYTHONPATH=that_tree to measure that tree.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import string
import time
from collections.abc import Callable

from crawlerdetect.providers.crawlers import data as CRAWLER_PATTERNS
from crawlerdetect.providers.exclusions import data as EXCLUSION_PATTERNS

from statsvc.core import bots
from statsvc.core.requester import MAX_USER_AGENT

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWeb\u212ait/537.36 (\u212aHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def literal_start(pattern: str) -> str:
    """Return the longest start of a pattern that is plain text (escapes undone)."""
    text = []
    for piece in re.finditer(r"\\(.)|([^\\\[\](){}.*+?|^$])|(.)", pattern.lstrip("^")):
        if piece.group(3) is not None:
            break
        text.append(piece.group(1) or piece.group(2))
    return "".join(text)


def sample(pattern: str, rng: random.Random) -> str:
    """Return a text the pattern (probably) matches: its pieces made concrete."""
    text = pattern.lstrip("^").rstrip("$").replace("(?!Search)", "")
    text = re.sub(r"\\d(\{\d,?\d*\})?\*?", "1", text)
    text = re.sub(r"\[([^\]])[^\]]*\][*+?]?(\{\d,?\d*\})?", r"\1", text)
    text = re.sub(r"\\(.)", r"\1", text)
    text = re.sub(r"\(([^|()]*)(\|[^()]*)?\)[?*]?", r"\1", text)
    text = text.replace(".", rng.choice(" /."))
    return re.sub(r"[*+?{}]|\d,\d", "", text)


def fill(piece: str, cap: int) -> str:
    """Return piece repeated to the length cap."""
    return (piece * (cap // max(len(piece), 1) + 1))[:cap]


def crafted_agents(cap: int = MAX_USER_AGENT, seed: int = 1, mixes: int = 2000) -> list[str]:
    """Return the crafted corpus, agents of at most cap characters, without repeats."""
    rng = random.Random(seed)
    patterns = [*CRAWLER_PATTERNS, *EXCLUSION_PATTERNS]
    starts = [s for s in map(literal_start, patterns) if s]
    samples = [sample(p, rng) for p in patterns]
    letters = "".join(rng.choice(string.ascii_letters) for _ in range(cap))
    agents: list[str] = []
    for start in starts:  # every pattern's start, repeated, alone and with a space
        agents += [fill(start, cap), fill(start + " ", cap), fill(start[:-1], cap)]
    for text in samples:  # random letters, then the pattern: the backtracking's worst
        agents += [letters[: cap - len(text)] + text, fill("a-", cap - len(text)) + text]
    for char in [
        *string.printable,
        "\u017f",
        "\u212a",
        "\u0130",
        "\u0131",
        "\u0660",
        "é",
        "\u2028",
    ]:
        agents += [char * cap, fill(char + " ", cap)]  # long runs of one character
    for cut in range(1, 7):  # the look-ahead's word cut short, and whole
        agents += [fill("Yandex" + "Search"[:cut], cap), letters[: cap - 12] + "YandexSearch"]
    agents += [  # nested repeats of what the exclusions strip and what the patterns count
        fill("Mozilla/5.0 ", cap),
        fill("Safari/" + "1." * 40, cap),
        "CPU iPhone OS " + fill("1_", cap - 14),
        "CPU OS " + fill("0_", cap - 20) + " like Mac",
        "Opera Mini/" + fill("11.", cap - 11),
        fill("(like Gecko", cap),
        fill(" Chrome/1.", cap),
        fill("bo", cap),
        fill("b-o-t-", cap),
        fill("Linuxbo", cap),
        fill("boLinuxt", cap),
        fill(BROWSER + " ", cap),
        BROWSER + " " + letters[: cap - len(BROWSER) - 1],
    ]
    pieces = [*starts, *samples, BROWSER, " ", "/", "1.", "Linux", "bot", "crawl"]
    for _ in range(mixes):  # random mixes of all of the above
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        agents.append(text[:cap])
    return list(dict.fromkeys(a[:cap] for a in agents if a.strip()))


def clear_caches() -> None:
    """Forget every answer the judged code keeps."""
    bots.is_bot.cache_clear()
    detector = getattr(bots, "_detector", None)  # the code before the RE2 translation
    if detector is not None:
        detector._cached_check.cache_clear()


def timings(agents: list[str], judge: Callable[[str], bool], rounds: int) -> list[list[int]]:
    """Return the nanoseconds of each judgement, per agent, per round."""
    spent = [[0] * rounds for _ in agents]
    gc.disable()
    try:
        for r in range(rounds):
            for i, agent in enumerate(agents):
                clear_caches()
                start = time.thread_time_ns()
                judge(agent)
                spent[i][r] = time.thread_time_ns() - start
            gc.collect()
    finally:
        gc.enable()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    agents = crafted_agents(seed=args.seed)
    bots.is_bot(BROWSER)  # the first search builds RE2's automata: not an agent's cost
    spent = timings(agents, bots.is_bot, args.rounds)
    least = sorted((min(times), i) for i, times in enumerate(spent))
    first, unlucky = max((times[0], i) for i, times in enumerate(spent))
    p99 = least[int(0.99 * (len(least) - 1))][0]
    median = least[len(least) // 2][0]
    worst, which = least[-1]
    print(f"{bots.__file__}")
    print(f"{len(agents)} agents of at most {MAX_USER_AGENT} characters, {args.rounds} rounds")
    print(f"median {median / 1000:.1f} µs, p99 {p99 / 1000:.1f} µs, worst {worst / 1000:.1f} µs")
    rounds = ", ".join(f"{ns / 1000:.0f}" for ns in spent[unlucky])
    print(
        f"worst of the first round {first / 1000:.1f} µs ({rounds} µs: {agents[unlucky][:40]!r}…)"
    )
    print(f"the worst agent: {agents[which][:80]!r}… ({len(agents[which])} characters)")
    for ns, i in least[-5:-1]:
        print(f"  then {ns / 1000:.1f} µs: {agents[i][:60]!r}…")


if __name__ == "__main__":
    main()
