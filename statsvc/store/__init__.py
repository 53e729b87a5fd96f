"""The store: the only user of Redis or Valkey (the counting batcher, cluster routing, the
records of sites, tokens, the audit trail and imports, dashboard sessions, the Lua scripts).
Imports only the core."""

from statsvc.store.batcher import Mode
from statsvc.store.batches import Waiter
from statsvc.store.cluster import cluster_client
from statsvc.store.failures import (
    STORE_FAILURES,
    UNREACHABLE,
    ScriptError,
    StoreError,
    StoreUnavailable,
)
from statsvc.store.limits import REPLAY_HORIZON, Limits
from statsvc.store.records import AUDIT_CAP, ImportPlan
from statsvc.store.store import Store

__all__ = [
    "AUDIT_CAP",
    "REPLAY_HORIZON",
    "STORE_FAILURES",
    "UNREACHABLE",
    "ImportPlan",
    "Limits",
    "Mode",
    "ScriptError",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Waiter",
    "cluster_client",
]
