"""`statsvc migrate busuanzi`: a host's site PV, UV and listed pages read from busuanzi's
Redis keys (under a busuanzi key prefix of the test's own, on the test server)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from redis.asyncio import Redis

from statsvc.sources import SourceError, read
from statsvc.store import Store
from tests.helpers import Client, FakeClock, check_invariants, dump, get_counts, ok, put_site
from tests.migrating import migrate

HOST = "blog.example.vn"


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


async def pages_of(client: Client, site: str) -> dict[str, int]:
    """Return a site's page totals: path -> views."""
    reply = await ok(client, "GET", f"/api/v1/sites/{site}/pages?window=total&limit=100")
    return {p["path"]: p["views"] for p in reply["pages"]}


def sitemap(tmp_path: Path) -> Path:
    """A list of the site's URLs, as from its sitemap: /, /about, a page busuanzi never
    counted, another host's page and a comment line."""
    urls = tmp_path / "urls.txt"
    urls.write_text(
        f"# sitemap\nhttps://{HOST}/\nhttps://{HOST}/about\nhttps://{HOST}/never\n"
        "https://other.example.com/about\n"
    )
    return urls


async def test_busuanzi_site_pv_uv_and_listed_pages(
    client: Client,
    store: Store,
    clock: FakeClock,
    redis: Redis,
    redis_url: str,
    prefix: str,
    tmp_path: Path,
) -> None:
    """2.8 layout: site_pv 5000, site_uv a HyperLogLog of 3 visitors, page_pv a sorted set
    of MD5(host&path): / 4000, /about 1000. Worked by hand: total 5000 views, 3 visits;
    pages / 4000, /about 1000 (/never has no score). Then PV 5000 -> 5020: the next run adds
    20 views and nothing else."""
    bsz = prefix + "bsz"
    await put_site(client, "blog", {"timezone": "UTC"})
    site = md5(HOST)
    await redis.set(f"{bsz}:site_pv:{site}", 5000)
    await redis.pfadd(f"{bsz}:site_uv:{site}", "a", "b", "c")
    await redis.zadd(f"{bsz}:page_pv:{site}", {md5(f"{HOST}&/"): 4000, md5(f"{HOST}&/about"): 1000})
    result = await migrate(
        store,
        clock,
        "blog",
        "busuanzi",
        redis_url,
        prefix=bsz,
        host=HOST,
        urls=sitemap(tmp_path),
    )
    assert (result["views"], result["visits"], result["pages"]) == (5000, 3, 2)
    counts = await get_counts(client, "blog")
    assert (counts["views"]["total"], counts["visits"]["total"]) == (5000, 3)
    check_invariants(counts)
    assert await pages_of(client, "blog") == {"/": 4000, "/about": 1000}
    entry = (await ok(client, "GET", "/api/v1/sites/blog/audit"))["entries"][0]
    assert entry["detail"]["source"]["kind"] == "busuanzi"
    await redis.set(f"{bsz}:site_pv:{site}", 5020)
    again = await migrate(store, clock, "blog", "busuanzi", redis_url, prefix=bsz, host=HOST)
    assert (again["views"], again["visits"], again["pages"]) == (20, 0, 0)
    assert (await get_counts(client, "blog"))["views"]["total"] == 5020


async def test_busuanzi_before_2_8_sets_and_page_strings(
    client: Client,
    store: Store,
    clock: FakeClock,
    redis: Redis,
    redis_url: str,
    prefix: str,
    tmp_path: Path,
) -> None:
    """The older layout: site_uv a set of 2 visitor hashes, a string per page named
    MD5(host + path): / 70, /about 30; site_pv 120. Worked by hand: total 120 views,
    2 visits; pages / 70, /about 30. A dry run first writes nothing."""
    bsz = prefix + "old"
    await put_site(client, "blog", {"timezone": "UTC"})
    await redis.set(f"{bsz}:site_pv:{md5(HOST)}", 120)
    await redis.sadd(f"{bsz}:site_uv:{md5(HOST)}", md5("10.0.0.1"), md5("10.0.0.2"))
    await redis.set(f"{bsz}:page_pv:{md5(HOST + '/')}", 70)
    await redis.set(f"{bsz}:page_pv:{md5(HOST + '/about')}", 30)
    urls = sitemap(tmp_path)
    before = await dump(redis, prefix)
    dry = await migrate(
        store, clock, "blog", "busuanzi", redis_url, prefix=bsz, host=HOST, urls=urls, dry_run=True
    )
    assert (dry["views"], dry["visits"], dry["pages"]) == (120, 2, 2)
    assert await dump(redis, prefix) == before
    await migrate(store, clock, "blog", "busuanzi", redis_url, prefix=bsz, host=HOST, urls=urls)
    counts = await get_counts(client, "blog")
    assert (counts["views"]["total"], counts["visits"]["total"]) == (120, 2)
    assert await pages_of(client, "blog") == {"/": 70, "/about": 30}


async def test_busuanzi_with_an_opening_balance(
    client: Client, store: Store, clock: FakeClock, redis: Redis, redis_url: str, prefix: str
) -> None:
    """site_pv 40, site_uv a set of 1, --initial 1000 (the count of the box before busuanzi):
    total 1040 views and 1001 visits, once."""
    bsz = prefix + "init"
    await put_site(client, "blog", {"timezone": "UTC"})
    await redis.set(f"{bsz}:site_pv:{md5(HOST)}", 40)
    await redis.sadd(f"{bsz}:site_uv:{md5(HOST)}", md5("10.0.0.1"))
    for _ in range(2):
        await migrate(
            store, clock, "blog", "busuanzi", redis_url, prefix=bsz, host=HOST, initial=1000
        )
    counts = await get_counts(client, "blog")
    assert (counts["views"]["total"], counts["visits"]["total"]) == (1040, 1001)


async def test_the_audit_entry_names_the_redis_url_without_its_query_or_password(
    client: Client, store: Store, clock: FakeClock, redis: Redis, redis_url: str, prefix: str
) -> None:
    """redis-py takes the password in the query too (`?password=`): a run from
    `...?username=default&password=s3cret-q#s3cret-f` (the server's default user has no
    password, so any is accepted) is audited as the URL without its query and fragment."""
    bsz = prefix + "bsz"
    await put_site(client, "blog", {"timezone": "UTC"})
    await redis.set(f"{bsz}:site_pv:{md5(HOST)}", 7)
    mark = "&" if "?" in redis_url else "?"
    url = f"{redis_url}{mark}username=default&password=s3cret-q#s3cret-f"
    result = await migrate(store, clock, "blog", "busuanzi", url, prefix=bsz, host=HOST)
    assert result["views"] == 7
    entry = (await ok(client, "GET", "/api/v1/sites/blog/audit"))["entries"][0]
    assert entry["detail"]["source"]["from"] == redis_url.split("?")[0]
    assert "s3cret" not in str(entry)


@pytest.mark.parametrize(
    "url",
    [
        "redis://:s3cret/x@127.0.0.1:6379/0",
        "redis://:s3cret#x@127.0.0.1:6379/0",
        "redis://:s3cret?x@127.0.0.1:6379/0",
        "redis://:97531/s3cret@127.0.0.1:6379/0",
    ],
)
def test_a_password_with_an_unescaped_slash_hash_or_question_mark_is_named_not_echoed(
    url: str,
) -> None:
    """An unescaped / # or ? ends the host part at the password: one fixed line that says to
    percent-encode, with no part of the URL (urlsplit's own error quoted the password as a
    port; an all-digit first part read as the port and was named as the server)."""
    with pytest.raises(SourceError) as raised:
        read("busuanzi", url, host=HOST)
    assert raised.value.code == "unreadable_url"
    assert "percent-encode" in str(raised.value)
    assert "s3cret" not in str(raised.value) and "97531" not in str(raised.value)


def test_a_driver_error_quoting_client_made_text_is_one_escaped_line() -> None:
    """redis-py's error for a host that does not resolve quotes the host as decoded from the
    URL (here with an ESC [31m, which would colour the operator's terminal, and a line
    feed): the reason is one line, the ESC escaped, the line feed a space."""
    with pytest.raises(SourceError) as raised:
        read("busuanzi", "redis://x%1b%5b31m%0ay.invalid:6379/0", host=HOST)
    text = str(raised.value)
    assert raised.value.code == "cannot_connect"
    assert "\x1b" not in text and "\n" not in text
    assert "connecting to x\\x1b[31m y.invalid" in text  # the line feed a space
