"""`statsvc serve` and `statsvc site` as a user runs them: real processes, embedded Valkey."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from statsvc.__main__ import parser
from statsvc.settings import settings_from
from tests.helpers import call
from tests.servers import TOKEN, Server, Service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """A statsvc process with the embedded store in a fresh data dir (stopped at the end)."""
    svc = Service(tmp_path / "data")
    yield svc
    if svc.process is not None:
        svc.stop()  # SIGTERM: statsvc stops its embedded Valkey too


def test_counts_survive_a_restart(service: Service) -> None:
    """Hits counted before SIGTERM are still there after the next start (AOF on)."""
    service.start()
    for n in range(5):
        service.hit(f"/p{n % 2}")
    assert service.stop() == 0
    assert (service.data_dir / "valkey" / "appendonlydir").is_dir()
    service.start()
    body = service.hit("/p0")
    assert body["views"]["total"] == 6
    assert body["page"]["total"] == 4
    assert body["online"] >= 1


def test_serve_creates_the_demo_site_once(service: Service) -> None:
    """The first start creates the `demo` site; a change to it survives later starts."""
    service.start()
    status, _ = call(service.url, "PUT", "/api/v1/sites/demo", {"name": "Xã Tú Sơn"}, TOKEN)
    assert status == 200
    service.stop()
    service.start()
    status, body = call(service.url, "GET", "/api/v1/sites/demo", token=TOKEN)
    assert (status, body["name"]) == (200, "Xã Tú Sơn")


def test_two_workers_share_one_port_and_one_store(service: Service) -> None:
    """With --workers 2, every hit is counted once in the one embedded store."""
    service.args = ("--workers", "2")
    service.start()
    totals = [service.hit("/w")["views"]["total"] for _ in range(20)]
    assert totals == list(range(1, 21))
    assert service.stop() == 0


def test_store_url_setting_uses_that_server(tmp_path: Path, redis_url: str) -> None:
    """With STATSVC_REDIS_URL set, no embedded server starts and the hits land in that server."""
    prefix_free_dir = tmp_path / "unused"
    svc = Service(prefix_free_dir, env={"STATSVC_REDIS_URL": redis_url})
    svc.start()
    try:
        site = "u" + os.urandom(4).hex()
        assert call(svc.url, "PUT", f"/api/v1/sites/{site}", {}, TOKEN)[0] == 201
        status, body = call(svc.url, "POST", "/api/v1/hit", {"site": site, "path": "/"})
        assert (status, body["views"]["total"]) == (200, 1)
    finally:
        svc.stop()
    assert not (prefix_free_dir / "valkey").exists()


def run_cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `statsvc ARGS --data-dir DATA_DIR`."""
    command = [sys.executable, "-m", "statsvc", *args, "--data-dir", str(data_dir)]
    inherited = {k: v for k, v in os.environ.items() if k != "STATSVC_REDIS_URL"}
    env = inherited | {"LANGUAGE": "en"} | (env or {})  # the tests read its English messages
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)


def test_site_cli_without_a_running_service(tmp_path: Path) -> None:
    """`statsvc site add|list|show` work on the data dir while no service runs."""
    data = tmp_path / "data"
    added = run_cli(
        data,
        "site",
        "add",
        "tuson",
        "--name",
        "Tú Sơn",
        "--timezone",
        "Asia/Ho_Chi_Minh",
        "--domain",
        "tuson.example.vn",
        "--exclude-ip",
        "203.0.113.9",
        "--exclude-ip",
        "2001:DB8::/32",
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["timezone"] == "Asia/Ho_Chi_Minh"
    assert run_cli(data, "site", "list").stdout.split() == ["tuson"]
    shown = json.loads(run_cli(data, "site", "show", "tuson").stdout)
    assert shown["domains"] == ["tuson.example.vn"]
    assert shown["name"] == "Tú Sơn"
    assert shown["exclude_ips"] == ["203.0.113.9", "2001:db8::/32"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("site", "add", "bad/id"), "site id"),
        (("site", "add", "x", "--timezone", "Mars/Olympus"), "IANA"),
        (("site", "add", "x", "--online-window", "5"), "online_window"),
        (("site", "add", "x", "--exclude-ip", "10.1.2.3/8"), "the range is '10.0.0.0/8'"),
        (("site", "show", "nosuch"), "no site"),
    ],
)
def test_site_cli_rejects_bad_input(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    """Bad site ids and settings are refused with a message and a non-zero exit."""
    result = run_cli(tmp_path / "data", *args)
    assert result.returncode != 0
    assert message in result.stderr


def test_site_cli_talks_to_the_running_service_store(service: Service) -> None:
    """While serve runs, the CLI uses its embedded store instead of starting a second one."""
    service.start()
    added = run_cli(service.data_dir, "site", "add", "live", "--locale", "en")
    assert added.returncode == 0, added.stderr
    status, body = call(service.url, "POST", "/api/v1/hit", {"site": "live", "path": "/"})
    assert (status, body["counted"]) == (200, True)
    assert "live" in run_cli(service.data_dir, "site", "list").stdout.split()


def test_second_serve_on_the_same_data_dir_is_refused(service: Service) -> None:
    """Two services never run two servers on one data dir."""
    service.start()
    second = Service(service.data_dir)
    with pytest.raises(RuntimeError, match="another statsvc"):
        second.start()


def test_a_killed_service_leaves_no_second_server_behind(service: Service) -> None:
    """After statsvc is SIGKILLed, its orphaned Valkey is stopped at the next start (two servers
    never write one AOF) and every count is still there."""
    service.start()
    for n in range(3):
        service.hit(f"/k{n}")
    pidfile = service.data_dir / "valkey" / "valkey.pid"
    orphan = int(pidfile.read_text())
    assert service.process is not None
    service.process.kill()
    service.process.wait()
    service.process = None
    assert Path(f"/proc/{orphan}").exists()  # SIGKILL left the server running
    service.start()
    assert not Path(f"/proc/{orphan}").exists()
    assert int(pidfile.read_text()) != orphan
    assert service.hit("/k0")["views"]["total"] == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STATSVC_RETENTION_DAYS", "0"),
        ("STATSVC_RETENTION_DAYS", "30"),
        ("STATSVC_PAGE_CAP", "-5"),
        ("STATSVC_PAGE_CAP", "lots"),
        ("STATSVC_LOCALE", "fr"),
        ("STATSVC_TIMEZONE", "Mars/Olympus"),
        ("STATSVC_WORKERS", "0"),
        ("STATSVC_WORKERS", "all"),
        ("STATSVC_PORT", "70000"),
    ],
)
def test_bad_settings_stop_the_command_with_their_name(
    tmp_path: Path, name: str, value: str
) -> None:
    """A setting out of its range is refused at start, naming the variable; nothing runs."""
    result = run_cli(tmp_path / "data", "site", "list", env={name: value})
    assert result.returncode == 2
    assert name.removeprefix("STATSVC_").lower() in result.stderr.lower()
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("token", ["x", "fifteen-chars-x", " sixteen-chars-x", "sixteen-chars-xy "])
@pytest.mark.parametrize(
    "command", [("serve", "--port", "0"), ("token", "list", "demo"), ("export", "demo")]
)
def test_a_guessable_admin_token_stops_every_command(
    tmp_path: Path, token: str, command: tuple[str, ...]
) -> None:
    """An admin token shorter than 16 characters (or with spaces around it, which no bearer
    header can carry) stops `statsvc serve` and the admin commands at start: exit status 2,
    one line naming the setting, no traceback, nothing started."""
    result = run_cli(tmp_path / "data", *command, env={"STATSVC_ADMIN_TOKEN": token})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "statsvc: STATSVC_ADMIN_TOKEN: must be at least 16 characters, without surrounding "
        "spaces (make one with: openssl rand -hex 32)"
    ]
    assert not (tmp_path / "data").exists()


def test_workers_auto_is_one_per_usable_cpu() -> None:
    """STATSVC_WORKERS=auto (or --workers auto) runs one worker per CPU this process may use."""
    args = parser().parse_args(["serve"])
    assert settings_from({"STATSVC_WORKERS": "auto"}, args).workers == len(os.sched_getaffinity(0))
    args = parser().parse_args(["serve", "--workers", "auto"])
    assert settings_from({"STATSVC_WORKERS": "3"}, args).workers == len(os.sched_getaffinity(0))
    assert settings_from({}, parser().parse_args(["serve", "--workers", "3"])).workers == 3


MALFORMED = [
    b"GET /\x1b[31mred HTTP/1.1\r\nHost: x\r\n\r\n",  # a control character in the target
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Forged: a\x01b\r\n\r\n",  # and in a header value
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n",  # a space in a header name
    b"GET /a\n\x1b[2J2026-11-26 forged line HTTP/1.1\r\n\r\n",  # a bare LF in the request line
    b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
]


def raw_request(port: int, data: bytes) -> bytes:
    """Send raw bytes to a server on this host and return what it answers before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(data)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply


def log_lines_after(service: Service, start: int) -> list[str]:
    """Return the lines statsvc logged past byte `start` of its log."""
    with service.log.open("rb") as log:
        log.seek(start)
        return log.read().decode("utf-8", "backslashreplace").splitlines()


def test_malformed_requests_log_one_escaped_line_at_most_every_10_seconds(
    service: Service,
) -> None:
    """200 requests aiohttp's parser refuses (400 each) log one line, not a traceback each: no
    control or escape character from the request, no client address, and how many more
    there were comes in the next such line."""
    service.start()
    start = service.log.stat().st_size
    for n in range(200):
        assert raw_request(service.port, MALFORMED[n % len(MALFORMED)]).startswith(b"HTTP/1.")
    assert call(service.url, "GET", "/healthz")[0] == 200
    lines = [line for line in log_lines_after(service, start) if "aiohttp" in line]
    assert 1 <= len(lines) <= 2  # one per 10 s and worker: the run may straddle a boundary
    for line in lines:
        assert "aiohttp refused a request: " in line
        assert "more since the last such line" in line
        assert line.isprintable()
        assert "127.0.0.1" not in line


def test_a_request_path_in_a_log_line_is_escaped(tmp_path: Path, server: Server) -> None:
    """A store failure on a path with %0a and an ANSI escape logs one line, the path escaped:
    it can neither start a forged line nor colour the terminal."""
    service = Service(tmp_path / "data", env={"STATSVC_REDIS_URL": server.url})
    service.start()
    try:
        server.stop()
        start = service.log.stat().st_size
        token = "svt_x." + "0" * 16 + "." + "a" * 43  # a site token's shape: looked up
        status, reply = call(service.url, "GET", "/api/v1/sites/x%0a%1b[31m/stats", token=token)
        assert (status, reply["error"]["code"]) == (503, "store_unavailable")
        lines = log_lines_after(service, start)
    finally:
        service.stop()
    failures = [line for line in lines if "the store failed on" in line]
    assert len(failures) == 1, lines
    assert "the store failed on GET /api/v1/sites/x\\x0a\\x1b[31m/stats: " in failures[0]
    assert all(line.isprintable() for line in lines)
