"""The pure model of statsvc: page views, sites, calendars, visitors, key names, refusal reasons,
the box, bots and the chart. Imports neither aiohttp nor redis nor any other layer."""
