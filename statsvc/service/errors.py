"""What a failed store call raises, named for the layers above the service: they may not
import the store (nor redis) to tell a store failure from any other error."""

from __future__ import annotations

from statsvc.store.failures import STORE_FAILURES

__all__ = ["STORE_FAILURES"]
