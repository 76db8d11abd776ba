"""Protected mode seen from a real non-loopback client: a test host in a network
namespace this test creates (veth pair, addresses private to the namespace link), as
the workplace allows. The namespace and links are removed afterwards."""
import os
import subprocess

import pytest

HOST_IP = "10.254.213.1"
PEER_IP = "10.254.213.2"


def sh(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True)


@pytest.fixture
def peer_namespace():
    name = f"strata{os.getpid()}"
    host_if, peer_if = f"sv{os.getpid()}a", f"sv{os.getpid()}b"
    try:
        sh("ip", "netns", "add", name)
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if)
        sh("ip", "link", "set", peer_if, "netns", name)
        sh("ip", "addr", "add", f"{HOST_IP}/30", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "netns", "exec", name, "ip", "addr", "add", f"{PEER_IP}/30", "dev", peer_if)
        sh("ip", "netns", "exec", name, "ip", "link", "set", peer_if, "up")
        sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield name
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def remote_cli(namespace, port, *args):
    return subprocess.run(["ip", "netns", "exec", namespace, "redis-cli", "-h", HOST_IP, "-p", str(port), *args],
                          capture_output=True, text=True, timeout=20).stdout


def test_non_loopback_clients_are_denied_without_a_password(start_server, peer_namespace):
    server = start_server("--bind", "127.0.0.1", HOST_IP)
    out = remote_cli(peer_namespace, server.port, "PING")
    assert "DENIED Redis is running in protected mode because protected mode is enabled" in out
    # Loopback clients are served meanwhile.
    assert server.cli("PING") == b"PONG\n"
    assert server.cli("CONFIG", "SET", "protected-mode", "no") == b"OK\n"
    assert remote_cli(peer_namespace, server.port, "PING").strip() == "PONG"
    assert "rejected_connections:1" in server.cli("INFO", "stats").decode()


def test_a_password_lifts_protected_mode_but_requires_auth(start_server, peer_namespace):
    server = start_server("--bind", "127.0.0.1", HOST_IP, "--requirepass", "pw")
    assert "NOAUTH Authentication required" in remote_cli(peer_namespace, server.port, "PING")
    assert remote_cli(peer_namespace, server.port, "-a", "pw", "--no-auth-warning", "PING").strip() == "PONG"
