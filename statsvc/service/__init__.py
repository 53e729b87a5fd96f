"""The use cases: counting hits, the outage buffer and its replay, admin operations, sign-in,
imports and exports. Imports the core and the store, never aiohttp."""
