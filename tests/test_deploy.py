"""The production files say what they must: no Docker engine runs here, so check their content."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from statsvc.app import create_app
from statsvc.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The parsed docker-compose.yml."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def settings_read_by_statsvc() -> set[str]:
    """Return the environment names the command line reads."""
    return set(re.findall(r'"(STATSVC_[A-Z_]+)"', (ROOT / "statsvc" / "__main__.py").read_text()))


def dockerfile_final_stage() -> list[str]:
    """Return the instructions of the Dockerfile's last stage."""
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    instructions = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    last_from = max(i for i, line in enumerate(instructions) if line.startswith("FROM "))
    return instructions[last_from:]


def test_redis_keeps_every_hit(compose: dict[str, Any]) -> None:
    """Redis runs with AOF on, fsync every second, no eviction, on a volume, healthchecked."""
    redis = compose["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    assert "--maxmemory-policy noeviction" in command
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert redis["healthcheck"]["test"][-1] == "ping"
    assert re.match(r"redis:7", redis["image"])


def test_statsvc_uses_that_redis(compose: dict[str, Any]) -> None:
    """statsvc points at the compose Redis, waits for it to be healthy, and needs an admin token."""
    service = compose["services"]["statsvc"]
    url = service["environment"]["STATSVC_REDIS_URL"]
    assert re.fullmatch(r"redis://redis:6379/\d+", url)
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert ":?" in service["environment"]["STATSVC_ADMIN_TOKEN"]


def test_compose_environment_names_are_real_settings(compose: dict[str, Any]) -> None:
    """Every STATSVC_ variable the compose file sets is one statsvc reads."""
    names = set(compose["services"]["statsvc"]["environment"])
    assert names <= settings_read_by_statsvc()


def test_ports_are_bound_to_loopback(compose: dict[str, Any]) -> None:
    """No port is published on every interface: a reverse proxy fronts statsvc."""
    for service in compose["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:")


def test_image_runs_statsvc_serve_as_non_root() -> None:
    """The final image runs `statsvc serve` as a non-root user, listening on all interfaces."""
    stage = dockerfile_final_stage()
    user = next(line.split()[1] for line in stage if line.startswith("USER "))
    assert user not in ("root", "0")
    cmd = next(line for line in stage if line.startswith("CMD "))
    assert cmd == 'CMD ["statsvc", "serve"]'
    assert "STATSVC_HOST=0.0.0.0" in " ".join(stage)
    scripts = (ROOT / "pyproject.toml").read_text()
    assert 'statsvc = "statsvc.__main__:main"' in scripts


def test_image_copies_what_the_package_needs() -> None:
    """Every directory the build stage copies exists and the package data is among them."""
    text = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.MULTILINE)
    for sources in copied:
        for source in shlex.split(sources):
            assert (ROOT / source).exists(), source
    assert {"statsvc", "widget"} <= {s for line in copied for s in shlex.split(line)}


def test_healthchecks_probe_a_real_route(compose: dict[str, Any]) -> None:
    """The image's and the compose file's healthchecks ask for /healthz, which the app serves."""
    routes = {r.resource.canonical for r in create_app(Settings()).router.routes() if r.resource}
    assert "/healthz" in routes
    assert "/healthz" in (ROOT / "Dockerfile").read_text().split("HEALTHCHECK", 1)[1]
    assert "/healthz" in " ".join(compose["services"]["statsvc"]["healthcheck"]["test"])


def test_trusted_proxy_is_the_network_gateway(compose: dict[str, Any]) -> None:
    """The default trusted proxy is the gateway through which the host's proxy connects."""
    gateway = compose["networks"]["statsvc"]["ipam"]["config"][0]["gateway"]
    trusted = compose["services"]["statsvc"]["environment"]["STATSVC_TRUSTED_PROXIES"]
    assert trusted.endswith(f":-{gateway}}}")
    assert "ports" not in compose["services"]["redis"]
