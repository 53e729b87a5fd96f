"""The hit lane (statsvc.http.lane, issue 13): a plain hit is served on its connection as
aiohttp parses it, with the same reply as the hit route's; everything else goes aiohttp's
way, in order. Requests are written on raw connections, byte for byte."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.http import HttpVersion11
from aiohttp.web_protocol import RequestHandler
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from redis.asyncio import RedisCluster

from statsvc.http.lane import LANE_READY, LaneServer, _ends_whole, quick_hit
from tests.helpers import BROWSER, HIT, PING, Client, examples, plain_client

Reply = tuple[int, dict[str, str], bytes]
LANE = "text/plain;charset=UTF-8"


def request(body: str, *, path: str = HIT, headers: str = "", content_type: str = LANE) -> bytes:
    """Return a POST as a browser's fetch sends it: head and body in one piece."""
    data = body.encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {BROWSER}\r\n"
        f"Content-Type: {content_type}\r\n{headers}Content-Length: {len(data)}\r\n\r\n"
    ).encode() + data


def hit_body(path: str = "/a", **fields: Any) -> str:
    return json.dumps({"site": "demo", "path": path, **fields})


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    lines = head.split("\r\n")
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers["content-length"]))
    return int(lines[0].split()[1]), headers, body


class Connection:
    """A raw keep-alive connection to the test server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, *requests: bytes) -> list[Reply]:
        """Write the requests at once (pipelined, if several); read a reply each."""
        self.writer.write(b"".join(requests))
        await self.writer.drain()
        return [await read_reply(self.reader) for _ in requests]

    def close(self) -> None:
        self.writer.close()


async def connect(client: Client) -> Connection:
    assert client.server.port is not None
    return Connection(*await asyncio.open_connection("127.0.0.1", client.server.port))


def lane_of(client: Client) -> LaneServer:
    runner = client.server.runner
    assert runner is not None
    server = runner.server
    assert isinstance(server, LaneServer), "the test server must run the hit lane"
    return server


def views_total(reply: Reply) -> int:
    total: int = json.loads(reply[2])["views"]["total"]
    return total


async def test_this_aiohttp_has_what_the_lane_reads(client: Client) -> None:
    """The lane reads aiohttp's connection state: with an aiohttp that lacks it every hit
    would go aiohttp's way, slower; this fails then, so an upgrade is noticed."""
    assert LANE_READY
    lane_of(client)


async def test_plain_hits_take_the_lane_and_are_counted(client: Client) -> None:
    """Hits on a kept-alive connection are served by the lane, each counted once."""
    lane = lane_of(client)
    connection = await connect(client)
    taken = lane.taken
    replies = [(await connection.send(request(hit_body(id=f"lane-{n:04d}"))))[0] for n in range(5)]
    connection.close()
    assert [status for status, _, _ in replies] == [200] * 5
    assert [views_total(reply) for reply in replies] == [1, 2, 3, 4, 5]
    assert lane.taken - taken == 5


async def test_the_test_clients_hits_take_the_lane(client: Client) -> None:
    """The suite's own hits (aiohttp's client) go through the lane: the rest of the tests
    of the hit route test it too."""
    lane = lane_of(client)
    taken = lane.taken
    response = await client.post(HIT, data=hit_body(), headers={"Content-Type": LANE})
    assert response.status == 200
    assert lane.taken == taken + 1


async def test_a_lane_reply_is_the_hit_routes_reply(client: Client) -> None:
    """The same hit answered by the lane and by aiohttp's route (a connection to close goes
    that way): the same status, headers (but the date and the closing) and figures."""
    lane = lane_of(client)
    connection = await connect(client)
    taken = lane.taken
    (by_lane,) = await connection.send(request(hit_body(id="compare-1")))
    assert lane.taken == taken + 1
    (by_route,) = await connection.send(
        request(hit_body(id="compare-2"), headers="Connection: close\r\n")
    )
    assert lane.taken == taken + 1  # that one went aiohttp's way
    connection.close()
    assert by_lane[0] == by_route[0] == 200
    route_headers = {k: v for k, v in by_route[1].items() if k not in ("date", "connection")}
    lane_headers = {k: v for k, v in by_lane[1].items() if k != "date"}
    assert lane_headers.keys() == route_headers.keys()
    assert {k: v for k, v in lane_headers.items() if k != "content-length"} == {
        k: v for k, v in route_headers.items() if k != "content-length"
    }
    lane_body, route_body = json.loads(by_lane[2]), json.loads(by_route[2])
    assert lane_body.keys() == route_body.keys()
    assert route_body["views"]["total"] == lane_body["views"]["total"] + 1
    assert route_body["page"]["total"] == lane_body["page"]["total"] + 1


async def test_heartbeats_take_the_lane_and_answer_as_the_route(client: Client) -> None:
    """A heartbeat on a kept-alive connection is served by the lane: it keeps its reader
    online and answers as the heartbeat route does (the same status, headers but the date
    and the closing, and online figures), and it counts no view."""
    lane = lane_of(client)
    connection = await connect(client)
    (counted,) = await connection.send(request(hit_body(id="beat-0001")))
    taken = lane.taken
    (by_lane,) = await connection.send(request(hit_body(), path=PING))
    assert lane.taken == taken + 1
    (by_route,) = await connection.send(
        request(hit_body(), path=PING, headers="Connection: close\r\n")
    )
    assert lane.taken == taken + 1  # that one went aiohttp's way
    connection.close()
    assert by_lane[0] == by_route[0] == 200
    route_headers = {k: v for k, v in by_route[1].items() if k not in ("date", "connection")}
    lane_headers = {k: v for k, v in by_lane[1].items() if k != "date"}
    assert lane_headers == route_headers
    assert json.loads(by_lane[2]) == json.loads(by_route[2]) == {"online": 1, "page": {"online": 1}}
    after = await client.get("/api/v1/counts", params={"site": "demo"})
    assert (await after.json())["views"]["total"] == views_total(counted)


async def test_a_heartbeat_of_an_unknown_site_is_answered_as_the_route_answers(
    client: Client,
) -> None:
    """A refused heartbeat gets the route's status and error body, whichever way it went,
    and is timed under the heartbeat's route."""
    connection = await connect(client)
    body = hit_body(site="nowhere")
    (by_lane,) = await connection.send(request(body, path=PING))
    (by_route,) = await connection.send(request(body, path=PING, headers="Connection: close\r\n"))
    connection.close()
    assert by_lane[0] == by_route[0] == 404
    assert json.loads(by_lane[2]) == json.loads(by_route[2])
    assert json.loads(by_lane[2])["error"]["code"] == "unknown_site"
    metrics = await (await client.get("/metrics")).text()
    timed = [
        line
        for line in metrics.splitlines()
        if line.startswith("statsvc_request_duration_seconds_count")
        and 'route="/api/v1/ping"' in line
        and 'status="404"' in line
    ]
    assert timed and float(timed[0].rsplit(" ", 1)[1]) == 2


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (hit_body(site="nowhere"), LANE, 404),
        ("not json", LANE, 400),
        (json.dumps({"site": "demo"}), LANE, 400),
        (hit_body(id="no"), LANE, 400),
        (hit_body(path="a"), LANE, 400),
        (hit_body(), "image/png", 415),
        ("{" + " " * 9000 + "}", LANE, 413),
    ],
    ids=["unknown-site", "not-json", "no-url", "bad-id", "bad-path", "media-type", "too-large"],
)
async def test_a_refused_hit_is_answered_as_the_route_answers(
    client: Client, body: str, content_type: str, status: int
) -> None:
    """A hit refused before it is counted gets the route's status and error body, and the
    public headers, whichever way it went."""
    connection = await connect(client)
    (by_lane,) = await connection.send(request(body, content_type=content_type))
    (by_route,) = await connection.send(
        request(body, content_type=content_type, headers="Connection: close\r\n")
    )
    connection.close()
    assert by_lane[0] == by_route[0] == status
    assert json.loads(by_lane[2]) == json.loads(by_route[2])
    assert json.loads(by_lane[2])["error"]["code"]
    assert by_lane[1]["access-control-allow-origin"] == "*"
    assert by_lane[1]["x-content-type-options"] == "nosniff"


async def test_pipelined_requests_are_answered_in_order(client: Client) -> None:
    """Requests written at once behind a hit in the lane wait for its answer: a hit, a
    health check and another hit come back in that order, both hits counted."""
    connection = await connect(client)
    replies = await connection.send(
        request(hit_body(id="pipe-0001")),
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        request(hit_body(id="pipe-0002")),
    )
    (after,) = await connection.send(request(hit_body(id="pipe-0003")))
    connection.close()
    assert [status for status, _, _ in replies] == [200, 200, 200]
    assert views_total(replies[0]) == 1
    assert json.loads(replies[1][2])["status"] == "ok"
    assert views_total(replies[2]) == 2
    assert views_total(after) == 3


async def test_a_body_sent_after_its_head_is_counted(client: Client) -> None:
    """A hit whose body comes in a later packet than its head (aiohttp's way) is counted
    and answered, and the connection's next hits still are."""
    connection = await connect(client)
    whole = request(hit_body(id="split-0001"))
    cut = whole.index(b"\r\n\r\n") + 4
    connection.writer.write(whole[:cut])
    await connection.writer.drain()
    (first,) = await connection.send(whole[cut:])
    (second,) = await connection.send(request(hit_body(id="split-0002")))
    connection.close()
    assert (first[0], second[0]) == (200, 200)
    assert (views_total(first), views_total(second)) == (1, 2)


async def test_malformed_http_is_refused_by_aiohttp(client: Client) -> None:
    """A request aiohttp's parser refuses is answered 400 as before the lane."""
    connection = await connect(client)
    (reply,) = await connection.send(b"POST /api/v1/hit HTTP/1.1\r\nBad Header\r\n\r\n")
    connection.close()
    assert reply[0] == 400


async def test_a_hit_in_flight_is_answered_before_a_graceful_shutdown_closes(
    client: Client, redis_url: str
) -> None:
    """A shutdown while a lane's hit awaits the store (paused here) waits for its answer,
    which says counted, before the connection is closed."""
    lane = lane_of(client)
    connection = await connect(client)
    await connection.send(request(hit_body(id="warm-0001")))  # the site's settings at hand
    redis = plain_client(redis_url)
    pause: list[Any] = ["CLIENT", "PAUSE", 500, "ALL"]
    if isinstance(redis, RedisCluster):
        await redis.execute_command(*pause, target_nodes=RedisCluster.ALL_NODES)
    else:
        await redis.execute_command(*pause)  # type: ignore[no-untyped-call]
    taken = lane.taken
    connection.writer.write(request(hit_body(id="flight-0001")))
    await connection.writer.drain()
    while lane.taken == taken:  # noqa: ASYNC110 (the lane's count, read each loop turn)
        await asyncio.sleep(0)
    closing = asyncio.ensure_future(client.server.close())
    status, _, body = await read_reply(connection.reader)
    await closing
    await redis.aclose()
    assert status == 200
    assert json.loads(body)["counted"] is True
    assert await connection.reader.read() == b""  # then closed
    connection.close()


# -- quick_hit: the lane's own parse of one whole plain hit ------------------------------

NAMES = st.sampled_from(
    [
        "Host",
        "host",
        "Content-Type",
        "content-type",
        "User-Agent",
        "Origin",
        "Referer",
        "DNT",
        "Sec-GPC",
        "Sec-Purpose",
        "X-Forwarded-For",
        "Connection",
        "Transfer-Encoding",
        "Expect",
        "Content-Encoding",
        "Upgrade",
        "Accept-Language",
    ]
) | st.text("abcXYZ-_!#~09", min_size=1, max_size=8)
VALUES = (
    st.sampled_from(
        [b"text/plain;charset=UTF-8", b" application/json ", b"keep-alive", b"close", b"\tx\t",
         b"Mozilla/5.0 (X11) \xc3\xa1\xff", b"chunked", b"100-continue", b"1.2.3.4, 5.6.7.8"]
    )
    | st.text(" \tabcXYZ019;,./()\u00e1", max_size=16).map(lambda text: text.encode("latin-1"))
    | st.binary(max_size=12)
)  # fmt: skip


@st.composite
def raw_hits(draw: st.DrawFn, plain: bool) -> bytes:
    """Requests near a plain hit: fields of every kind (repeated, with spaces, control
    characters and bytes past ASCII); unless `plain`, its line, Host, media type and length
    may be wrong or missing too."""
    body = draw(st.sampled_from([hit_body().encode(), b"{}", b"", b"x" * 20]))
    line = draw(st.sampled_from([b"POST /api/v1/hit HTTP/1.1", b"POST /api/v1/ping HTTP/1.1"]))
    if not plain and draw(st.booleans()):
        line = draw(
            st.sampled_from(
                [
                    b"POST /api/v1/hit HTTP/1.0",
                    b"POST /api/v1/hit?x HTTP/1.1",
                    b"POST /api/v1/pings HTTP/1.1",
                    b"GET /api/v1/ping HTTP/1.1",
                ]
            )
        )
    fields = [b"Host: 127.0.0.1"] if plain or draw(st.booleans()) else []
    fields += [b"Content-Type: text/plain"] if plain or draw(st.booleans()) else []
    fields += [
        name.encode() + b":" + value
        for name, value in draw(st.lists(st.tuples(NAMES, VALUES), max_size=3))
    ]
    length: int | None = len(body)
    if not plain and draw(st.booleans()):
        length = draw(st.sampled_from([len(body) + 1, max(len(body) - 1, 0), None]))
    if length is not None:
        fields.append(b"Content-Length: %d" % length)
    order = draw(st.permutations(fields))
    return line + b"\r\n" + b"".join(field + b"\r\n" for field in order) + b"\r\n" + body


LOOP = asyncio.new_event_loop()


async def never_called(request: web.BaseRequest) -> web.StreamResponse:
    raise AssertionError("only aiohttp's parser is used here")


def aiohttps_parse(data: bytes) -> tuple[Any, bytes]:
    """Return aiohttp's one message of `data` (as statsvc's server parses it) and its body."""
    parser = RequestHandler(web.Server(never_called, loop=LOOP), loop=LOOP)._parser
    assert parser is not None
    messages, upgraded, tail = parser.feed_data(data)
    assert len(messages) == 1 and not upgraded and not tail
    message, payload = messages[0]
    assert payload.is_eof()
    return message, payload.read_nowait(-1)


@settings(max_examples=examples(1000), deadline=None)
@given(raw_hits(plain=True) | raw_hits(plain=False))
def test_a_quick_parse_is_aiohttps(data: bytes) -> None:
    """Whatever quick_hit takes, aiohttp's parser takes as a plain hit with the same fields,
    values and body (it would never refuse it, nor read it otherwise)."""
    quick = quick_hit(data)
    event("parsed quickly" if quick is not None else "left to aiohttp")
    if quick is None:
        return
    route, fields, body = quick
    message, aiohttp_body = aiohttps_parse(data)
    assert (message.method, message.path, message.version) == ("POST", route, HttpVersion11)
    assert not (message.should_close or message.upgrade or message.chunked)
    assert message.compression is None
    assert aiohttp_body == body
    assert len(message.headers) == len(fields)
    for name, value in fields.items():
        assert message.headers.getall(name) == [value]


@pytest.mark.parametrize(
    "data",
    [
        request(hit_body()).replace(b"Host: 127.0.0.1\r\n", b""),
        request(hit_body(), headers="Connection: close\r\n"),
        request(hit_body(), headers="User-Agent: twice\r\n"),
        request(hit_body(), headers="Transfer-Encoding: chunked\r\n"),
        request(hit_body(), headers="Expect: 100-continue\r\n"),
        request(hit_body(), headers="X-Bad: a\x01b\r\n"),
        request(hit_body(), headers=" Folded: x\r\n"),
        request(hit_body(), content_type="image/png"),
        request(hit_body()) + b"GET / HTTP/1.1\r\n",
        request(hit_body())[:-1],
        request(hit_body()).replace(b"HTTP/1.1", b"HTTP/1.0", 1),
        request(hit_body(), path=HIT + "?x=1"),
        request(hit_body(), path=PING + "/"),
        request(hit_body(), path="/api/v1/counts"),
    ],
    ids=[
        "no-host", "closing", "twice", "chunked", "expect", "control", "folded", "media",
        "pipelined", "short", "http-1.0", "query", "other-ping", "other-route",
    ],
)  # fmt: skip
def test_quick_hit_leaves_the_rest_to_aiohttp(data: bytes) -> None:
    """A request that is not exactly one plain hit is not parsed quickly."""
    assert quick_hit(data) is None


def test_a_plain_hit_is_parsed_quickly() -> None:
    """The widget's hit, as a browser sends it, is."""
    quick = quick_hit(request(hit_body(), headers="Connection: keep-alive\r\nDNT: 1\r\n"))
    assert quick is not None
    route, fields, body = quick
    assert route == HIT
    assert body == hit_body().encode()
    assert fields["user-agent"] == BROWSER
    assert fields.get("dnt") == "1"


async def test_a_connection_parses_hits_quickly_again_after_other_requests(
    client: Client,
) -> None:
    """After a request aiohttp parsed (a GET, here), the next whole hit on the connection is
    parsed quickly again: aiohttp's parser was left holding nothing."""
    lane = lane_of(client)
    connection = await connect(client)
    quick = lane.quick
    (first,) = await connection.send(request(hit_body(id="again-001")))
    (health,) = await connection.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    (second,) = await connection.send(request(hit_body(id="again-002")))
    connection.close()
    assert (first[0], health[0], second[0]) == (200, 200, 200)
    assert views_total(second) == 2
    assert lane.quick == quick + 2


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    """Requests one after the other on a connection (hits, GETs, bodies holding blank
    lines, chunked bodies), cut into pieces anywhere; and where each request ends."""
    requests = draw(
        st.lists(
            st.sampled_from(
                [
                    request(hit_body()),
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                    request("{}\r\n\r\n{}", path="/api/v1/ping"),
                    b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"4\r\n\r\n\r\n\r\n0\r\n\r\n",
                ]
            ),
            min_size=1,
            max_size=4,
        )
    )
    stream = b"".join(requests)
    ends, at = [], 0
    for one in requests:
        at += len(one)
        ends.append(at)
    cuts = sorted(set(draw(st.lists(st.integers(1, len(stream) - 1), max_size=6))))
    bounds = [0, *cuts, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)], ends


PING_WITH_BLANK_LINES = request("{}\r\n\r\n{}", path="/api/v1/ping")
_HEAD_END = PING_WITH_BLANK_LINES.index(b"\r\n\r\n")


@settings(max_examples=examples(1000), deadline=None)
@given(streams())
@example(  # the head's blank line cut after its CR, a blank line in the body, a request begun
    (
        [
            PING_WITH_BLANK_LINES[: _HEAD_END + 1],
            PING_WITH_BLANK_LINES[_HEAD_END + 1 :] + b"POST /",
        ],
        [len(PING_WITH_BLANK_LINES), len(PING_WITH_BLANK_LINES) + len(request(hit_body()))],
    )
)
def test_the_parser_is_said_to_hold_nothing_only_between_requests(
    case: tuple[list[bytes], list[int]],
) -> None:
    """Fed piece by piece, aiohttp's parser is said to hold nothing (the lane may then
    parse a whole hit itself) only where a request ends."""
    pieces, ends = case
    parser = RequestHandler(web.Server(never_called, loop=LOOP), loop=LOOP)._parser
    assert parser is not None
    fed = 0
    for piece in pieces:
        messages, _, _ = parser.feed_data(piece)
        for _ in messages:
            parser.message_consumed()
        fed += len(piece)
        if _ends_whole(piece, messages):
            assert fed in ends


async def test_a_connection_parses_hits_quickly_again_after_a_body_sent_late(
    client: Client,
) -> None:
    """After a hit whose body came after its head (aiohttp's parser took it), the next hit
    goes through that parser whole, and the one after is parsed quickly again."""
    lane = lane_of(client)
    connection = await connect(client)
    whole = request(hit_body(id="late-0001"))
    cut = whole.index(b"\r\n\r\n") + 4
    begun = lane.requests_count
    connection.writer.write(whole[:cut])
    await connection.writer.drain()
    while lane.requests_count == begun:  # noqa: ASYNC110 (aiohttp has the head alone)
        await asyncio.sleep(0)
    await connection.send(whole[cut:])
    taken, quick = lane.taken, lane.quick
    (second,) = await connection.send(request(hit_body(id="late-0002")))
    (third,) = await connection.send(request(hit_body(id="late-0003")))
    connection.close()
    assert (second[0], third[0]) == (200, 200)
    assert views_total(third) == 3
    assert (lane.taken - taken, lane.quick - quick) == (2, 1)


async def test_many_pipelined_requests_are_all_answered_in_order(client: Client) -> None:
    """A hit and 34 health checks written at once (past aiohttp's queue of 32 parsed
    messages): 35 replies, in order, the hit's first and counted."""
    connection = await connect(client)
    health = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    ready = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    replies = await connection.send(request(hit_body(id="many-0001")), *[health] * 33, ready)
    (after,) = await connection.send(request(hit_body(id="many-0002")))
    connection.close()
    assert [status for status, _, _ in replies] == [200] * 35
    assert views_total(replies[0]) == 1
    assert all(json.loads(body)["status"] == "ok" for _, _, body in replies[1:34])
    assert json.loads(replies[34][2])["status"] == "ready"
    assert views_total(after) == 2


@pytest.mark.parametrize("zeros", [30, 5000], ids=["zeros", "past-int"])
async def test_a_length_written_with_many_zeros_is_answered_as_the_route_answers(
    client: Client, zeros: int
) -> None:
    """A Content-Length with zeros before it goes the route's way: read as its number when
    Python can, else 400 (never a dropped connection or a 500), on a fresh connection and
    on a warm one alike."""
    body = hit_body(id=f"zeros-{zeros:04d}")
    data = request(body).replace(
        b"Content-Length: %d" % len(body), b"Content-Length: " + b"0" * zeros + b"%d" % len(body)
    )
    connection = await connect(client)
    (fresh,) = await connection.send(data)
    (warm,) = await connection.send(data.replace(b"zeros-", b"zeroz-"))
    connection.close()
    expected = 200 if zeros < 4000 else 400
    assert (fresh[0], warm[0]) == (expected, expected)
    if expected == 400:
        assert json.loads(fresh[2])["error"]["code"] == "bad_request"


async def test_any_route_answers_a_length_too_long_to_read_with_400(client: Client) -> None:
    """The edge middleware reads a Content-Length of over 4,300 digits as 400, not a 500."""
    connection = await connect(client)
    (reply,) = await connection.send(
        b"GET /api/v1/counts?site=demo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
        + b"0" * 5000
        + b"\r\n\r\n"
    )
    connection.close()
    assert reply[0] == 400
    assert json.loads(reply[2])["error"]["code"] == "bad_request"
