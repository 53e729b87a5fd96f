"""Dashboard sessions in the store: one expiring key each, named by a digest of the cookie;
and the failed sign-ins of each client address, one expiring counter per address and minute.
A part of Store."""

from __future__ import annotations

import json
import secrets
from functools import cached_property
from typing import Any

from redis.commands.core import AsyncScript

from statsvc.core.keys import Keys
from statsvc.store.lua import script
from statsvc.store.resp import as_int


class Sessions:
    """Dashboard sessions and failed sign-ins."""

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

    async def sign_in_salt(self) -> bytes | None:
        """Return the random salt of the addresses' hashes in failed sign-in tallies (one for
        the deployment: every worker and instance shares the tallies), None if none is made."""
        salt = await self._redis.get(self._keys.sign_in_salt())
        return salt if isinstance(salt, bytes) else None

    async def make_sign_in_salt(self) -> bytes:
        """Return the salt of failed sign-in tallies, making it if there is none yet."""
        fresh = secrets.token_bytes(32)
        old = await self._redis.set(self._keys.sign_in_salt(), fresh, nx=True, get=True)
        return old if isinstance(old, bytes) else fresh

    async def failed_sign_ins(self, address: str, minute: int) -> int:
        """Return the failed sign-ins of an address (its hash) in a minute since the epoch."""
        return as_int(await self._redis.get(self._keys.sign_in_failures(address, minute)))

    async def add_failed_sign_in(self, address: str, minute: int, lifetime: int) -> int:
        """Count a failed sign-in of an address (its hash) in a minute, the tally kept for
        `lifetime` seconds from its first; return the minute's failures so far."""
        keys = [self._keys.sign_in_failures(address, minute)]
        return int(await self._sign_in_script(keys=keys, args=[lifetime]))

    @cached_property
    def _sign_in_script(self) -> AsyncScript:
        registered: AsyncScript = self._redis.register_script(script("sign_in.lua"))
        return registered
