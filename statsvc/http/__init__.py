"""The HTTP layer: aiohttp routes, middleware, replies, the widget, the admin API, the dashboard
and metrics. Imports the service and the core, never redis and never the store."""
