"""A hit's reply assembled from pre-encoded parts is byte for byte orjson's encoding of the
reply object (DESIGN §3), for any figures, path, outcome and reason."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from statsvc.core.calendar import windows_at
from statsvc.core.pageview import NO_PAGE
from statsvc.core.reasons import Reason
from statsvc.core.results import Counts, Figures, HitResult, Outcome
from statsvc.core.site import Site
from statsvc.http.replies import HitReplies

numbers = st.integers(min_value=0, max_value=2**53)
figures = st.builds(Figures, numbers, numbers, numbers, numbers, numbers)
paths = st.one_of(st.just(NO_PAGE), st.text(min_size=1, max_size=30), st.just('/"\\\u2028é'))
sites = st.builds(
    Site,
    id=st.sampled_from(["demo", "tuson", "a-b_c"]),
    timezone=st.sampled_from(["UTC", "Asia/Ho_Chi_Minh", "America/St_Johns"]),
    locale=st.sampled_from(["vi", "en"]),
)
REPLIES = HitReplies()  # one for every example: its cached parts are used again


@given(
    sites,
    st.floats(min_value=0, max_value=4e9),
    st.sampled_from([Outcome.COUNTED, Outcome.REFUSED, Outcome.QUEUED]),
    st.one_of(st.none(), st.sampled_from(list(Reason))),
    paths,
    figures,
    figures,
    numbers,
    numbers,
    numbers,
    numbers,
)
def test_a_reply_is_orjsons_encoding_of_the_reply_object(
    site: Site,
    now: float,
    outcome: Outcome,
    reason: Reason | None,
    path: str,
    views: Figures,
    visits: Figures,
    online: int,
    page_online: int,
    page_today: int,
    page_total: int,
) -> None:
    """The bytes are those of orjson.dumps(result.body()), queued hits and reasons included."""
    windows = windows_at(now, site.zone, site.week_start)
    counts = Counts(True, path, online, page_online, views, visits, page_today, page_total)
    queued = outcome is Outcome.QUEUED
    result = HitResult(outcome, site, windows, None if queued else counts, path, reason)
    assert REPLIES.encode(result) == orjson.dumps(result.body())
