"""The OpenAPI 3.1 document of every route: the data file openapi.yaml, served as JSON.

The file states the code's limits as numbers and lists; tests/test_openapi_limits.py pins each
to the constant it comes from."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import orjson
import yaml
from aiohttp import web

from statsvc import __version__

# libyaml's parser when PyYAML was built with it: six times faster than the pure-Python one
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def document() -> dict[str, Any]:
    """Return the OpenAPI document, with the package's version filled in."""
    text = files("statsvc.http").joinpath("openapi.yaml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.load(text, Loader=_LOADER)  # noqa: S506 (_LOADER is a SafeLoader)
    info = doc["info"]
    # the one value not in the file; OpenAPI's own order puts it after the title
    doc["info"] = {"title": info.pop("title"), "version": __version__, **info}
    return doc


@cache
def _body() -> bytes:
    return orjson.dumps(document())


async def openapi_json(request: web.Request) -> web.Response:
    """Serve the OpenAPI document."""
    return web.Response(
        body=_body(),
        content_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )
