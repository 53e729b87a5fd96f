"""The failed-token limit holds whatever the concurrency: a try takes its place in its
address's tally of the minute before its token is judged, and a valid token gives it back
(statsvc/service/signin_limit.py). The limit's other behaviour is in tests/test_security.py."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import DummyCookieJar
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.app import create_app
from statsvc.core.errors import TooManyAttempts
from statsvc.http.appkeys import SIGN_INS, STATS
from statsvc.http.cookies import LOGIN_COOKIE
from statsvc.service.signin_limit import FAILURES_PER_MINUTE, WINDOW, SignInLimiter
from statsvc.settings import Settings
from tests.helpers import ADMIN_TOKEN, Client, FakeClock, admin, bearer, site_with_token

WRONG = {"Authorization": "Bearer not-the-token"}
TRIES = 30  # sent at once from one address: three times the limit
ADDRESS = "203.0.113.7"


def guess(n: int) -> dict[str, str]:
    """Return the headers of the n-th wrong bearer token (each a different guess)."""
    return {"Authorization": f"Bearer wrong-guess-{n:03d}"}


async def statuses(
    client: Client, headers: dict[str, str] | Callable[[int], dict[str, str]], tries: int
) -> Counter[int]:
    """Send `tries` admin API requests at once, with `headers` (or headers(n) for the n-th);
    count their statuses."""
    each = headers if callable(headers) else (lambda _: headers)
    replies = await asyncio.gather(
        *(client.get("/api/v1/sites", headers=each(n)) for n in range(tries))
    )
    return Counter(reply.status for reply in replies)


async def form_client(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> Callable[[str], Awaitable[int]]:
    """Return a function that posts a token to the sign-in form and answers the status: every
    post with one CSRF value in cookie and field (the client keeps no cookie, so the new one
    each 401 page sets changes nothing), so many can be sent at once."""
    client = await aiohttp_client(create_app(settings, clock=clock), cookie_jar=DummyCookieJar())
    cookie = {"Cookie": f"{LOGIN_COOKIE}=same-csrf"}

    async def sign_in(token: str) -> int:
        data = {"csrf": "same-csrf", "token": token}
        reply = await client.post("/admin/login", data=data, headers=cookie, allow_redirects=False)
        return reply.status

    return sign_in


async def test_wrong_tokens_sent_at_once_are_judged_ten_times_at_most(client: Client) -> None:
    """Thirty different wrong bearer tokens sent together from one address: ten are judged
    (401), the other twenty refused unjudged (429), however the requests interleave."""
    assert await statuses(client, guess, TRIES) == {401: 10, 429: TRIES - 10}


async def test_one_token_sent_at_once_is_judged_once(client: Client) -> None:
    """A client's many requests at once with its token (thirty: more than may be judged at
    once) are judged together: all pass. The same wrong token sent thirty times at once is
    one guess: all are 401, and nine more guesses are judged after it, the tenth refused."""
    assert await statuses(client, admin(), TRIES) == {200: TRIES}
    assert await statuses(client, WRONG, TRIES) == {401: TRIES}
    assert await statuses(client, guess, 9) == {401: 9}
    assert await statuses(client, guess, 1) == {429: 1}


async def test_right_tokens_give_their_places_back(client: Client) -> None:
    """Twenty right bearer tokens, sent ten at a time (as many as may be judged at once), all
    pass and give their places back: ten wrong tokens sent together after them are all
    judged (401), the next one refused (429)."""
    for _ in range(2):
        assert await statuses(client, admin(), 10) == {200: 10}
    assert await statuses(client, guess, 10) == {401: 10}
    assert await statuses(client, guess, 1) == {429: 1}


async def test_right_and_wrong_tokens_sent_together_judge_ten_wrong_in_all(
    client: Client,
) -> None:
    """Right and wrong tokens sent together: a right one passes unless the tally is full, and
    the minute judges exactly ten wrong ones, in that burst and the tries after it."""
    mixed = [admin() if n % 2 else guess(n) for n in range(TRIES)]
    replies = await asyncio.gather(*(client.get("/api/v1/sites", headers=h) for h in mixed))
    right = Counter(r.status for r, n in zip(replies, range(TRIES), strict=True) if n % 2)
    wrong = Counter(r.status for r, n in zip(replies, range(TRIES), strict=True) if not n % 2)
    assert set(right) <= {200, 429} and set(wrong) <= {401, 429}
    assert await statuses(client, lambda n: guess(TRIES + n), TRIES) == Counter(
        {401: 10 - wrong[401], 429: TRIES - 10 + wrong[401]}
    )


async def test_wrong_sign_ins_sent_at_once_are_judged_ten_times_at_most(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """Thirty wrong tokens posted together to the sign-in form from one address: ten are
    judged (401), the rest refused (429); then the right token is refused too until the
    minute is over, and signs in after it."""
    sign_in = await form_client(aiohttp_client, settings, clock)
    tries = await asyncio.gather(*(sign_in("nope") for _ in range(TRIES)))
    assert Counter(tries) == {401: 10, 429: TRIES - 10}
    assert await sign_in(ADMIN_TOKEN) == 429
    clock.advance(60)
    assert await sign_in(ADMIN_TOKEN) == 303


async def test_right_sign_ins_give_their_places_back(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """Twenty right tokens posted to the sign-in form, ten at a time, all sign in (303) and
    give their places back: ten wrong ones after them are all judged (401), the next
    refused."""
    sign_in = await form_client(aiohttp_client, settings, clock)
    for _ in range(2):
        assert Counter(await asyncio.gather(*(sign_in(ADMIN_TOKEN) for _ in range(10)))) == {
            303: 10
        }
    assert Counter(await asyncio.gather(*(sign_in("nope") for _ in range(10)))) == {401: 10}
    assert await sign_in("nope") == 429


async def test_tries_being_judged_hold_their_places(
    client: Client, redis: Redis, prefix: str
) -> None:
    """While ten tries of different tokens are being judged, none failed yet, an eleventh
    waits, unjudged, until one of them is answered; the ten judged valid give their places
    back, and it is judged then. Once the tally is back to nothing it is deleted, and ten
    wrong tokens are judged after them, the next refused."""
    limiter = client.app[SIGN_INS]
    gate, held = await ten_held(limiter)
    judged_late: list[bool] = []

    async def judged_after_them() -> str:
        judged_late.append(gate.is_set())
        return "valid"

    eleventh = asyncio.create_task(limiter.judge(ADDRESS, judged_after_them))
    for _ in range(10):
        await asyncio.sleep(0)  # turns of the loop: the eleventh asks, and is told to wait
    [tally] = await tally_keys(redis, prefix)
    assert await redis.hget(tally, "j") == b"10"  # no eleventh place
    assert judged_late == []
    gate.set()
    assert await asyncio.gather(*held) == ["valid"] * FAILURES_PER_MINUTE
    assert await eleventh == "valid"
    assert judged_late == [True]  # judged once a place was given back, not before
    assert await tally_keys(redis, prefix) == []  # given back to nothing: deleted
    await fail(limiter, FAILURES_PER_MINUTE)
    with pytest.raises(TooManyAttempts):
        await limiter.judge(ADDRESS, never_judged)


async def test_a_try_waits_for_a_place_no_longer_than_its_wait(client: Client) -> None:
    """A try told to wait for the tries being judged is refused, unjudged, once its wait is
    over (a limiter that does not wait refuses it at once)."""
    impatient = SignInLimiter(client.app[STATS], wait=0.0)
    gate, held = await ten_held(impatient)
    with pytest.raises(TooManyAttempts):
        await impatient.judge(ADDRESS, never_judged)
    gate.set()
    assert await asyncio.gather(*held) == ["valid"] * FAILURES_PER_MINUTE


async def test_many_valid_tokens_at_once_all_pass(client: Client) -> None:
    """Thirty different valid tokens sent at once from one address (a province's server
    reading its communes' sites, each with its own token) all pass: past the ten being
    judged at once, the others wait their turn."""
    sites = [f"xa-{n:02d}" for n in range(TRIES)]
    tokens = [await site_with_token(client, site, {}) for site in sites]
    replies = await asyncio.gather(
        *(
            client.get(f"/api/v1/sites/{site}/stats", headers=bearer(token))
            for site, token in zip(sites, tokens, strict=True)
        )
    )
    assert [reply.status for reply in replies] == [200] * TRIES


async def test_a_place_is_given_back_to_the_minute_it_was_taken_from(
    client: Client, clock: FakeClock, redis: Redis, prefix: str
) -> None:
    """A try taken in the last second of a minute and judged valid in the next gives its
    place back to the minute it took it from: that minute's tally is back to its failures,
    and the new minute's allows ten failures, not eleven."""
    limiter = client.app[SIGN_INS]
    minute = int(clock() // WINDOW)
    await fail(limiter, FAILURES_PER_MINUTE - 1)
    clock.advance(WINDOW - 0.5)

    async def valid_in_the_next_minute() -> str:
        clock.advance(1)
        return "valid"

    assert await limiter.judge(ADDRESS, valid_in_the_next_minute) == "valid"
    assert await tallies(redis, prefix, minute) == [{b"f": b"9", b"j": b"0"}]
    await fail(limiter, FAILURES_PER_MINUTE)
    with pytest.raises(TooManyAttempts) as refused:
        await limiter.judge(ADDRESS, never_judged)
    assert refused.value.retry_after == 60  # 0.5 s into the minute: 59.5 s left, rounded up
    assert await tallies(redis, prefix, minute) == [{b"f": b"9", b"j": b"0"}]


async def test_a_place_given_back_to_a_tally_gone_makes_no_key(
    client: Client, redis: Redis, prefix: str
) -> None:
    """A valid token judged after its tally expired gives its place back to nothing: no
    tally is made again (one without a lifetime would be kept forever)."""
    limiter = client.app[SIGN_INS]

    async def valid_after_the_tally_expired() -> str:
        for key in await tally_keys(redis, prefix):
            await redis.delete(key)  # as its expiry would
        return "valid"

    assert await limiter.judge(ADDRESS, valid_after_the_tally_expired) == "valid"
    assert await tally_keys(redis, prefix) == []


async def test_a_refused_try_takes_no_place(client: Client, redis: Redis, prefix: str) -> None:
    """Tries refused while the tally is full leave it at the limit (each gives back the
    place it took at once), with the lifetime its first try gave it."""
    limiter = client.app[SIGN_INS]
    await fail(limiter, FAILURES_PER_MINUTE)
    for _ in range(5):
        with pytest.raises(TooManyAttempts):
            await limiter.judge(ADDRESS, never_judged)
    [key] = await tally_keys(redis, prefix)
    assert await redis.hgetall(key) == {b"f": b"10", b"j": b"0"}
    assert 0 < await redis.ttl(key) <= WINDOW


async def ten_held(limiter: SignInLimiter) -> tuple[asyncio.Event, list[asyncio.Task[str | None]]]:
    """Start ten tries from ADDRESS, each of a valid token whose judging lasts until the gate
    returned is set; return once all ten hold their places, with the gate and the tries."""
    gate, all_in, started = asyncio.Event(), asyncio.Event(), [0]

    async def valid_once_let_through() -> str:
        started[0] += 1
        if started[0] == FAILURES_PER_MINUTE:
            all_in.set()
        await gate.wait()
        return "valid"

    held = [
        asyncio.create_task(limiter.judge(ADDRESS, valid_once_let_through))
        for _ in range(FAILURES_PER_MINUTE)
    ]
    async with asyncio.timeout(10):
        await all_in.wait()
    return gate, held


async def fail(limiter: SignInLimiter, tries: int) -> None:
    """Try `tries` wrong tokens from ADDRESS, each judged (not refused) and failed."""
    for _ in range(tries):
        assert await limiter.judge(ADDRESS, wrong) is None


async def wrong() -> str | None:
    """Judge a wrong token."""
    return None


async def never_judged() -> str | None:
    """A token no try refused should reach."""
    raise AssertionError("a refused try was judged")


async def tally_keys(redis: Redis, prefix: str, minute: int | None = None) -> list[bytes]:
    """Return the keys of the sign-in tallies (of `minute`, or all)."""
    pattern = f"{prefix}:signin:tries:{'*' if minute is None else minute}:*"
    return [key async for key in redis.scan_iter(match=pattern)]


async def tallies(redis: Redis, prefix: str, minute: int) -> list[object]:
    """Return what the tallies of `minute` hold."""
    return [await redis.hgetall(key) for key in await tally_keys(redis, prefix, minute)]
