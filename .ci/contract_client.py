"""A client written only from DESIGN §3, §5 and §7, run against an installed `statsvc serve`.

Usage: contract_client.py BASE_URL ADMIN_TOKEN before|after
  before: creates a site, counts hits and pings, checks shapes, errors and CORS; reads the
          admin API's stats, pages and series, imports an old total twice, exports, makes
          a read-only token
  after:  (after a restart) checks the counts are still there and counting goes on
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any

WINDOWS = {"today", "yesterday", "week", "month", "total"}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def call(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    # page views come from browsers (DESIGN §3 does not count robots: reason "bot"), and
    # Python's own User-Agent names a robot
    headers = {"User-Agent": BROWSER, **(headers or {})}
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            raw = reply.read()
            return reply.status, dict(reply.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def hit(body: dict[str, Any], content_type: str = "text/plain") -> dict[str, Any]:
    status, headers, reply = call("POST", "/api/v1/hit", body, {"Content-Type": content_type})
    assert status == 200, (status, reply)
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert "Access-Control-Allow-Credentials" not in headers
    return dict(reply)


def check_counts(reply: dict[str, Any]) -> None:
    for metric in ("views", "visits"):
        assert set(reply[metric]) == WINDOWS, reply
        f = reply[metric]
        assert f["today"] <= f["week"] <= f["total"] and f["today"] <= f["month"] <= f["total"]
    assert all(reply["visits"][w] <= reply["views"][w] for w in WINDOWS)


def before() -> None:
    admin = {"Authorization": f"Bearer {TOKEN}"}
    assert call("PUT", "/api/v1/sites/tuson", {"timezone": "Asia/Ho_Chi_Minh"})[0] == 401
    status, _, site = call("PUT", "/api/v1/sites/tuson", {"timezone": "Asia/Ho_Chi_Minh"}, admin)
    assert status in (200, 201) and site["timezone"] == "Asia/Ho_Chi_Minh", site
    assert call("GET", "/api/v1/sites/tuson", None, admin)[2]["week_start"] == "monday"

    url = "https://tuson.example.vn/tin-tuc/a?x=1#top"
    first = hit(
        {
            "site": "tuson",
            "url": url,
            "referrer": "https://www.google.com/",
            "title": "Tin tức",
            "id": "pv-0000000001",
        }
    )
    assert first["counted"] is True and first["path"] == "/tin-tuc/a", first
    assert first["timezone"] == "Asia/Ho_Chi_Minh" and first["online"] >= 1
    assert first["page"] == {"today": 1, "total": 1, "online": 1}, first
    check_counts(first)
    again = hit({"site": "tuson", "url": url, "id": "pv-0000000001"}, "application/json")
    assert again["counted"] is False and again["reason"] == "duplicate", again
    assert again["views"] == first["views"]
    second = hit({"site": "tuson", "path": "/tin-tuc/a"}, "application/json")
    assert second["views"]["total"] == 2 and second["visits"]["total"] == 1, second

    status, _, online = call(
        "POST",
        "/api/v1/ping",
        {"site": "tuson", "path": "/tin-tuc/a"},
        {"Content-Type": "text/plain"},
    )
    assert status == 200 and online["online"] >= 1, online
    status, _, counts = call("GET", "/api/v1/counts?site=tuson&path=/tin-tuc/a")
    assert status == 200 and counts["views"]["total"] == 2 and counts["page"]["total"] == 2
    check_counts(counts)

    status, _, error = call(
        "POST", "/api/v1/hit", {"site": "nosuchsite", "path": "/"}, {"Content-Type": "text/plain"}
    )
    assert status == 404 and error["error"]["code"] == "unknown_site", error
    status, _, error = call("GET", "/api/v1/counts?site=nosuchsite")
    assert status == 404 and error["error"]["code"] == "unknown_site", error
    status, headers, _ = call(
        "OPTIONS",
        "/api/v1/hit",
        None,
        {
            "Origin": "https://tuson.example.vn",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert status in (200, 204) and headers["Access-Control-Allow-Origin"] == "*", headers
    admin_api(admin)


def admin_api(admin: dict[str, str]) -> None:
    base = "/api/v1/sites/tuson"
    assert call("GET", f"{base}/stats")[0] == 401
    status, _, stats = call("GET", f"{base}/stats", None, admin)
    assert status == 200 and stats["views"]["total"] == 2 and "page" not in stats, stats
    check_counts(stats)
    status, _, top = call("GET", f"{base}/pages?window=today&limit=5", None, admin)
    assert status == 200 and top["window"] == "today", top
    assert top["pages"] == [{"path": "/tin-tuc/a", "views": 2}], top
    day = stats["date"]
    status, _, series = call("GET", f"{base}/series?from={day}&to={day}", None, admin)
    assert status == 200 and series["from"] == series["to"] == day, series
    assert [(d["date"], d["views"], d["visits"]) for d in series["days"]] == [(day, 2, 1)]

    call("PUT", "/api/v1/sites/old", {"timezone": "Asia/Ho_Chi_Minh"}, admin)
    old = {
        "import_id": "old-counter-2026",
        "total": {"views": 13457, "visits": 13457},
        "days": [{"date": day, "views": 98, "visits": 35}],
    }
    for _ in range(2):
        assert call("POST", "/api/v1/sites/old/import", old, admin)[0] == 200
    counts = call("GET", "/api/v1/counts?site=old")[2]
    assert counts["views"]["total"] == 13457 and counts["views"]["today"] == 98, counts
    check_counts(counts)
    status, _, exported = call("GET", "/api/v1/sites/old/export", None, admin)
    assert status == 200 and exported["total"]["views"] == 13457, exported

    status, _, made = call("POST", f"{base}/tokens", None, admin)
    assert status == 201 and set(made) == {"token_id", "token"}, made
    reader = {"Authorization": f"Bearer {made['token']}"}
    assert call("GET", f"{base}/stats", None, reader)[0] == 200
    assert call("GET", "/api/v1/sites/old/stats", None, reader)[0] == 403


def after() -> None:
    reply = hit({"site": "tuson", "path": "/tin-tuc/a"})
    assert reply["counted"] is True and reply["views"]["total"] == 3, reply
    assert reply["page"]["total"] == 3 and reply["online"] >= 1, reply
    check_counts(reply)


if __name__ == "__main__":
    BASE, TOKEN, phase = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    {"before": before, "after": after}[phase]()
    print(f"contract client: {phase} passed")
