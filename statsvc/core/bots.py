"""Which User-Agents are robots: crawlers, scripts and headless browsers."""

from __future__ import annotations

import re
from functools import lru_cache

import re2
from crawlerdetect import CrawlerDetect
from crawlerdetect.providers.crawlers import data as CRAWLER_PATTERNS

MAX_CACHED_AGENTS = 65_536  # distinct User-Agents remembered per process (some 10 MB at most)
# browsers driven by a program that crawlerdetect's list (of crawlers) does not name
HEADLESS = re.compile(r"headless|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs", re.I)
_detector = CrawlerDetect()


def _any_crawler_pattern() -> re2._Regexp[str]:
    """Return one RE2 expression that finds any of crawlerdetect's patterns in a raw
    User-Agent: a few microseconds where Python's `re` takes a millisecond and more. RE2 has
    no look-ahead, so `X(?!Y)` is searched as X (more is found, never less); whatever is found
    is then judged by crawlerdetect itself."""
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = 64 << 20
    patterns = (re.sub(r"\(\?!.*?\)", "", pattern) for pattern in CRAWLER_PATTERNS)
    return re2.compile("(?:" + "|".join(patterns) + ")", options)


_MAYBE_CRAWLER = _any_crawler_pattern()


@lru_cache(maxsize=MAX_CACHED_AGENTS)
def is_bot(user_agent: str) -> bool:
    """Tell whether a User-Agent is a robot's: none at all (every browser sends one), a
    crawler, library or tool of crawlerdetect's maintained list, or a headless browser.
    crawlerdetect first strips the tokens every browser sends, then looks for its patterns;
    a User-Agent in which no pattern appears at all is a browser's without that work."""
    # header bytes that are not UTF-8 arrive as surrogate escapes, which RE2 cannot take
    agent = user_agent.strip().encode("utf-8", "replace").decode()
    if not agent or HEADLESS.search(agent):
        return True
    return _MAYBE_CRAWLER.search(agent) is not None and bool(_detector.is_crawler(agent))
