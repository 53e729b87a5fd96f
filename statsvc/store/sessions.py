"""Dashboard sessions in the store: one expiring key each, named by a digest of the cookie.
A part of Store."""

from __future__ import annotations

import json
from typing import Any

from statsvc.core.keys import Keys


class Sessions:
    """Dashboard sessions."""

    _redis: Any
    _keys: Keys

    async def put_session(self, digest: str, session: dict[str, Any], lifetime: int) -> None:
        """Keep a dashboard session for `lifetime` seconds."""
        await self._redis.set(self._keys.session(digest), json.dumps(session), ex=lifetime)

    async def session(self, digest: str) -> dict[str, Any] | None:
        """Return a dashboard session, or None if it ended or expired."""
        raw = await self._redis.get(self._keys.session(digest))
        return None if raw is None else dict(json.loads(raw))

    async def end_session(self, digest: str) -> None:
        """End a dashboard session at once."""
        await self._redis.delete(self._keys.session(digest))
