"""A throwaway PostgreSQL server for the tests (Debian's postgresql package, unix socket only).

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PORT = 54329


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(
        f"*/bin/{name}"))), None)
    if not found:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package "
                           "(`make test` does this with apt-get)")
    return str(found)


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start() -> tuple[str, callable]:
    """Start a server; returns its SQLAlchemy URL and a function that stops it."""
    folder = Path(tempfile.mkdtemp(prefix="yishu-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    run = {"check": True, "capture_output": True}
    subprocess.run(_as_server_user([_bin("initdb"), "-D", str(data), "-A", "trust",
                                    "-U", "postgres"]), **run)
    subprocess.run(_as_server_user([_bin("pg_ctl"), "-D", str(data), "-w", "-l",
                                    str(folder / "log"), "-o",
                                    f"-k {folder} -p {PORT} -c listen_addresses=''",
                                    "start"]), **run)
    subprocess.run(_as_server_user([_bin("createdb"), "-h", str(folder), "-p", str(PORT),
                                    "-U", "postgres", "yishu"]), **run)

    def stop() -> None:
        subprocess.run(_as_server_user([_bin("pg_ctl"), "-D", str(data), "-m", "fast",
                                        "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)

    return f"postgresql+psycopg://postgres@/yishu?host={folder}&port={PORT}", stop
