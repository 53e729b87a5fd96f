"""Files served from memory: the widget script and the landing page's own files."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib.resources import files

from aiohttp import web

ASSET_FILES = (
    "widget.js",
    "static/landing.js",
    "static/landing.css",
    "static/dashboard.js",
    "static/dashboard.css",
)
SHORT_CACHE = "public, max-age=300"
LONG_CACHE = "public, max-age=31536000, immutable"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file, read and compressed once at start."""

    body: bytes
    gzipped: bytes
    etag: str  # a content hash: also the version of the immutable URL
    content_type: str


def load_asset(name: str) -> Asset:
    """Read a file of the widget package (e.g. "widget.js" or "static/landing.css")."""
    body = files("statsvc.widget").joinpath(name).read_bytes()
    suffix = name[name.rfind(".") :]
    return Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag=hashlib.sha256(body).hexdigest()[:16],
        content_type=TYPES[suffix],
    )


def asset_response(request: web.Request, asset: Asset, *, immutable: bool = False) -> web.Response:
    """Answer with `asset`: 304 for a matching If-None-Match, gzip when accepted.

    The gzip body has an ETag of its own (strong ETags name one byte sequence); either tag
    revalidates, the content being the same."""
    gzipped = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    tags = (f'"{asset.etag}"', f'"{asset.etag}-gz"')
    headers = {
        "ETag": tags[gzipped],
        "Cache-Control": LONG_CACHE if immutable else SHORT_CACHE,
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    wanted = {
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("If-None-Match", "").split(",")
    }
    if wanted & {*tags, "*"}:
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = asset.content_type
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=asset.gzipped, headers=headers)
    return web.Response(body=asset.body, headers=headers)


def accepts_gzip(accept_encoding: str) -> bool:
    """Tell whether an Accept-Encoding header accepts gzip (and does not refuse it with q=0)."""
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params and q.replace("0", "").strip(".") == "")
    return False
