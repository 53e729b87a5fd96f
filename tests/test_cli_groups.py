"""`statsvc group` as an operator runs it."""

from __future__ import annotations

import json
import os

from tests.helpers import statsvc


def test_group_put_show_list_and_token(redis_url: str) -> None:
    """`statsvc group put` makes a nested group, `show` resolves its sites, `list` lists it,
    `token` prints a group token once; a cycle is refused with a message and exit 2."""
    tag = os.urandom(4).hex()
    sites = [f"g{tag}-{n}" for n in range(3)]
    for site in sites:
        assert statsvc(redis_url, "site", "add", site).returncode == 0
    district = f"huyen-{tag}"
    made = statsvc(redis_url, "group", "put", district, "--site", sites[0], "--site", sites[1])
    assert made.returncode == 0, made.stderr
    province = f"tinh-{tag}"
    made = statsvc(
        redis_url,
        "group",
        "put",
        province,
        "--name",
        "Tỉnh",
        "--group",
        district,
        "--site",
        sites[1],
        "--site",
        sites[2],
    )
    assert made.returncode == 0, made.stderr
    shown = json.loads(statsvc(redis_url, "group", "show", province).stdout)
    assert sorted(shown["member_sites"]) == sorted(sites)
    listed = json.loads(statsvc(redis_url, "group", "list").stdout)
    assert {district, province} <= {group["id"] for group in listed}
    token = statsvc(redis_url, "group", "token", district)
    assert token.returncode == 0 and token.stdout.startswith(f"svg_{district}.")
    assert "shown this once" in token.stderr
    cycle = statsvc(redis_url, "group", "put", district, "--group", province)
    assert cycle.returncode == 2
    assert f"{district} -> {province} -> {district}" in cycle.stderr
