"""Which User-Agents are robots: crawlers, scripts and headless browsers."""

from __future__ import annotations

import re
from functools import lru_cache

from crawlerdetect import CrawlerDetect

MAX_CACHED_AGENTS = 4096  # distinct User-Agents remembered per process: real traffic has few
# browsers driven by a program that crawlerdetect's list (of crawlers) does not name
HEADLESS = re.compile(r"headless|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs", re.I)
_detector = CrawlerDetect()


@lru_cache(maxsize=MAX_CACHED_AGENTS)
def is_bot(user_agent: str) -> bool:
    """Tell whether a User-Agent is a robot's: none at all (every browser sends one), a
    crawler, library or tool of crawlerdetect's maintained list, or a headless browser."""
    agent = user_agent.strip()
    return not agent or bool(HEADLESS.search(agent)) or bool(_detector.is_crawler(agent))
