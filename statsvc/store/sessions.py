"""Dashboard sessions in the store: one expiring key each, named by a digest of the cookie;
and the sign-in tries of each client address, one expiring counter per address and minute.
A part of Store."""

from __future__ import annotations

import json
import secrets
from functools import cached_property
from typing import Any

from redis.commands.core import AsyncScript

from statsvc.core.keys import Keys
from statsvc.store.lua import script


class Sessions:
    """Dashboard sessions and sign-in tallies."""

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

    async def sign_in_salt(self) -> bytes:
        """Return the random salt of the addresses' hashes in sign-in tallies (one for the
        deployment: every worker and instance shares the tallies), making it if there is none
        yet."""
        fresh = secrets.token_bytes(32)
        old = await self._redis.set(self._keys.sign_in_salt(), fresh, nx=True, get=True)
        return old if isinstance(old, bytes) else fresh

    async def take_sign_in(self, address: str, minute: int, limit: int, lifetime: int) -> int:
        """Take a place for a sign-in try of an address (its hash) in a minute's tally, which
        holds `limit` at most and is kept for `lifetime` seconds from its first take; return
        1 if taken, 0 (taking none) when failed tries fill it, -1 when tries being judged do."""
        keys = [self._keys.sign_in_tally(address, minute)]
        return int(await self._take_sign_in_script(keys=keys, args=[limit, lifetime]))

    async def settle_sign_in(self, address: str, minute: int, *, valid: bool) -> None:
        """Settle a try that took a place in a minute's tally (if the tally is still kept):
        valid, its place is given back; else it is counted failed."""
        keys = [self._keys.sign_in_tally(address, minute)]
        await self._settle_sign_in_script(keys=keys, args=["valid" if valid else "failed"])

    @cached_property
    def _take_sign_in_script(self) -> AsyncScript:
        registered: AsyncScript = self._redis.register_script(script("sign_in_take.lua"))
        return registered

    @cached_property
    def _settle_sign_in_script(self) -> AsyncScript:
        registered: AsyncScript = self._redis.register_script(script("sign_in_settle.lua"))
        return registered
