"""The production files say what they must: no Docker engine runs here, so check their content."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from statsvc.app import create_app
from statsvc.settings import Settings
from statsvc.store import cluster_client
from tests.helpers import send, wait_until
from tests.live import free_port
from tests.servers import Service

ROOT = Path(__file__).resolve().parent.parent


COMPOSE_FILES = ("docker-compose.yml", "docker-compose.cluster.yml")


def load(name: str) -> dict[str, Any]:
    """Return a parsed compose file."""
    data: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The parsed docker-compose.yml."""
    return load("docker-compose.yml")


@pytest.fixture(scope="module")
def cluster_compose() -> dict[str, Any]:
    """The parsed docker-compose.cluster.yml."""
    return load("docker-compose.cluster.yml")


@pytest.fixture(scope="module", params=COMPOSE_FILES)
def each_compose(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each compose file in turn."""
    return load(request.param)


def redis_servers(compose: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the compose file's Redis servers (not one-off tools that use the image)."""
    return [
        service
        for service in compose["services"].values()
        if service.get("image", "").startswith("redis:") and "redis-server" in service["command"]
    ]


def settings_read_by_statsvc() -> set[str]:
    """Return the environment names statsvc reads (statsvc/settings.py, the one place)."""
    return set(re.findall(r'"(STATSVC_[A-Z_]+)"', (ROOT / "statsvc" / "settings.py").read_text()))


def dockerfile_final_stage() -> list[str]:
    """Return the instructions of the Dockerfile's last stage."""
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    instructions = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    last_from = max(i for i, line in enumerate(instructions) if line.startswith("FROM "))
    return instructions[last_from:]


def test_redis_keeps_every_hit(each_compose: dict[str, Any]) -> None:
    """Every Redis runs with AOF on, fsync every second, no eviction, on a volume of its own,
    healthchecked, unpublished."""
    servers = redis_servers(each_compose)
    assert servers
    volumes = [volume for redis in servers for volume in redis["volumes"]]
    assert len(set(volumes)) == len(servers)
    for redis in servers:
        command = " ".join(redis["command"])
        assert "--appendonly yes" in command
        assert "--appendfsync everysec" in command
        assert "--maxmemory-policy noeviction" in command
        assert any(volume.endswith(":/data") for volume in redis["volumes"])
        assert redis["healthcheck"]["test"][-1] == "ping"
        assert re.match(r"redis:7", redis["image"])
        assert "ports" not in redis


def test_statsvc_uses_that_redis(compose: dict[str, Any]) -> None:
    """statsvc points at the compose Redis, waits for it to be healthy, and needs an admin token."""
    service = compose["services"]["statsvc"]
    url = service["environment"]["STATSVC_REDIS_URL"]
    assert re.fullmatch(r"redis://redis:6379/\d+", url)
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert ":?" in service["environment"]["STATSVC_ADMIN_TOKEN"]


def test_kept_hits_survive_a_new_container(each_compose: dict[str, Any]) -> None:
    """The data directory (where hits kept through an outage are written at shutdown) is a
    volume of each statsvc replica, so a container made again finds them."""
    data_dir = next(
        line.split("STATSVC_DATA_DIR=", 1)[1].split()[0]
        for line in dockerfile_final_stage()
        if "STATSVC_DATA_DIR=" in line
    )
    assert data_dir in each_compose["services"]["statsvc"]["volumes"]


def test_compose_environment_names_are_real_settings(each_compose: dict[str, Any]) -> None:
    """Every STATSVC_ variable a compose file sets is one statsvc reads; workers follow the
    CPUs."""
    environment = each_compose["services"]["statsvc"]["environment"]
    assert set(environment) <= settings_read_by_statsvc()
    assert environment["STATSVC_WORKERS"] == "${STATSVC_WORKERS:-auto}"


def test_ports_are_bound_to_loopback(each_compose: dict[str, Any]) -> None:
    """Only the edge is published, on loopback: the host's reverse proxy fronts it, and
    statsvc itself publishes no port, so it can run as several replicas."""
    published = {
        name: service["ports"]
        for name, service in each_compose["services"].items()
        if service.get("ports")
    }
    assert published == {"edge": ["127.0.0.1:8080:8080"]}


def test_the_edge_spreads_over_replicas_and_forwards_the_client(
    each_compose: dict[str, Any],
) -> None:
    """The edge runs deploy/nginx.conf, which re-resolves the statsvc replicas and appends the
    client's address to X-Forwarded-For; the edge and the network's gateway (the host's
    proxy) are statsvc's trusted proxies, and nothing else is."""
    edge = each_compose["services"]["edge"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in edge["volumes"]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "resolver 127.0.0.11 valid=10s" in conf
    assert "set $statsvc http://statsvc:8080;" in conf
    assert "proxy_pass $statsvc;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    edge_ip = edge["networks"]["statsvc"]["ipv4_address"]
    gateway = each_compose["networks"]["statsvc"]["ipam"]["config"][0]["gateway"]
    trusted = each_compose["services"]["statsvc"]["environment"]["STATSVC_TRUSTED_PROXIES"]
    assert trusted == f"${{STATSVC_TRUSTED_PROXIES:-{gateway},{edge_ip}}}"
    assert "/healthz" in " ".join(edge["healthcheck"]["test"])


@pytest.mark.skipif(
    shutil.which("nginx") is None and os.environ.get("STATSVC_REQUIRE_NGINX") != "1",
    reason="nginx is not installed (CI installs it and sets STATSVC_REQUIRE_NGINX=1)",
)
def test_the_edge_configuration_is_valid_nginx(tmp_path: Path) -> None:
    """nginx itself accepts deploy/nginx.conf."""
    conf = ROOT / "deploy" / "nginx.conf"
    command = ["nginx", "-t", "-c", str(conf), "-p", str(tmp_path), "-g", "error_log stderr;"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_edge_sets_the_forwarded_host_and_proto_itself() -> None:
    """The edge overwrites X-Forwarded-Host with the Host it was asked for, and passes on only
    http or https as X-Forwarded-Proto: statsvc trusts both from it."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-Host $host;" in conf
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in conf
    proto_map = conf.split("map $http_x_forwarded_proto $forwarded_proto {", 1)[1].split("}")[0]
    assert sorted(line.strip() for line in proto_map.strip().splitlines()) == [
        "default $scheme;",
        "http http;",
        "https https;",
    ]


def edge_for_tests(tmp_path: Path, port: int, upstream: str) -> Path:
    """Return deploy/nginx.conf made to run here: on `port`, in `tmp_path`, before `upstream`
    (Docker's statsvc name and the container paths swapped out, nothing else)."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    swaps = {
        "listen 8080;": f"listen 127.0.0.1:{port};",
        "set $statsvc http://statsvc:8080;": f"set $statsvc {upstream};",
        "pid /tmp/nginx.pid;": f"pid {tmp_path}/nginx.pid;",
        "worker_processes auto;": "worker_processes 1;",
        "http {": "http {\n"
        + "".join(
            f"    {kind}_temp_path {tmp_path}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
    }
    for old, new in swaps.items():
        assert conf.count(old) == 1, old
        conf = conf.replace(old, new)
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    return path


@pytest.mark.skipif(
    shutil.which("nginx") is None and os.environ.get("STATSVC_REQUIRE_NGINX") != "1",
    reason="nginx is not installed (CI installs it and sets STATSVC_REQUIRE_NGINX=1)",
)
def test_a_forged_forwarded_host_does_not_pass_the_edge(tmp_path: Path) -> None:
    """Through the real nginx edge, a client's own X-Forwarded-Host and a made-up
    X-Forwarded-Proto do not reach statsvc: the landing page's snippet names the host the
    client asked for (and https only when the host's TLS proxy says so)."""
    service = Service(tmp_path / "data", env={"STATSVC_TRUSTED_PROXIES": "127.0.0.1"})
    service.start()
    port = free_port()
    conf = edge_for_tests(tmp_path, port, service.url)
    command = ["nginx", "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off; error_log stderr;"]
    with (tmp_path / "nginx.log").open("wb") as log:
        nginx = subprocess.Popen(command, stderr=log)
    try:
        wait_until(lambda: listening(port), 10, lambda: (tmp_path / "nginx.log").read_text())
        forged = {"Host": "stats.example.vn", "X-Forwarded-Host": "evil.example"}
        for proto, scheme in [("javascript", "http"), ("https", "https")]:
            headers = {**forged, "X-Forwarded-Proto": proto}
            status, _, body = send(f"http://127.0.0.1:{port}/", headers=headers)
            html = body.decode().replace("&#34;", '"')
            assert status == 200
            assert f'src="{scheme}://stats.example.vn/widget.js"' in html
            assert "evil.example" not in html
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        service.stop()


def listening(port: int) -> bool:
    """Tell whether something accepts connections on this loopback port now."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_the_cluster_file_forms_one_cluster_that_statsvc_uses(
    cluster_compose: dict[str, Any],
) -> None:
    """Three cluster-enabled nodes at fixed addresses; the init job forms the cluster from
    exactly those nodes, statsvc waits for it and its redis+cluster URL names them all."""
    services = cluster_compose["services"]
    nodes = {
        name: service["networks"]["statsvc"]["ipv4_address"] + ":6379"
        for name, service in services.items()
        if service in redis_servers(cluster_compose)
    }
    assert len(nodes) == 3
    for name in nodes:
        command = " ".join(services[name]["command"])
        assert "--cluster-enabled yes" in command
        assert "--cluster-require-full-coverage no" in command  # a node down stops only its sites
    init = services["redis-cluster-init"]
    script = " ".join(init["command"])
    assert f"--cluster create {' '.join(nodes.values())} --cluster-replicas 0" in script
    assert set(init["depends_on"]) == set(nodes)
    statsvc = services["statsvc"]
    assert statsvc["depends_on"] == {
        "redis-cluster-init": {"condition": "service_completed_successfully"}
    }
    url = statsvc["environment"]["STATSVC_REDIS_URL"]
    assert url == "redis+cluster://" + ",".join(nodes.values())
    client = cluster_client(url, timeout=1.0)
    assert [f"{n.host}:{n.port}" for n in client.nodes_manager.startup_nodes.values()] == list(
        nodes.values()
    )


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


def test_healthchecks_probe_a_real_route(each_compose: dict[str, Any]) -> None:
    """The image's and the compose files' healthchecks ask for /healthz, which the app serves."""
    routes = {r.resource.canonical for r in create_app(Settings()).router.routes() if r.resource}
    assert "/healthz" in routes
    assert "/healthz" in (ROOT / "Dockerfile").read_text().split("HEALTHCHECK", 1)[1]
    assert "/healthz" in " ".join(each_compose["services"]["statsvc"]["healthcheck"]["test"])
