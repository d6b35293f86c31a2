"""A throwaway PostgreSQL cluster for tests and benchmarks: a temp directory, a free port on
127.0.0.1, stopped (and deleted) at the end.

``initdb`` refuses to run as root; as root the cluster runs as ``nobody`` (the directory is
handed to it). Local socket connections are trusted (administration), TCP connections need a
password (scram-sha-256), so the wrong-password path is real. Each pytest-xdist worker starts
its own cluster on its own port; each test gets a database of its own (``new_database``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ADMIN_PASSWORD = "admin-pw-7f3a9"
TRADER = "trader"
TRADER_PASSWORD = "trader-pw-51c2e"
_SEARCH = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def pg_bin_dir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are, or ``None`` if PostgreSQL is not installed."""
    for folder in _SEARCH:
        if Path(folder, "initdb").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    """A port nobody listens on at the moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    """A running throwaway cluster."""

    folder: Path
    port: int
    bin_dir: Path
    options: str = ""
    """The server's options (``pg_ctl -o``) but its port: ``start`` gives them again."""
    _count: itertools.count = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str, password: bool = False) -> str:
        """The URL tui-trader is given for ``database`` (the trader's password in it if
        ``password``; otherwise it comes from ``PGPASSWORD``)."""
        auth = f"{TRADER}:{TRADER_PASSWORD}" if password else TRADER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str, database: str = "postgres") -> list[tuple]:
        """Run ``sql`` as the superuser (autocommit); its rows, if any."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            password=ADMIN_PASSWORD,
            dbname=database,
            autocommit=True,
        ) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def new_database(self, prefix: str = "t") -> str:
        """A fresh empty database owned by the trader; its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._count)}"
        self.admin(f'CREATE DATABASE "{name}" OWNER {TRADER}')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending any connection a test left open to it."""
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def rows(self, database: str, sql: str) -> list[tuple]:
        """``sql``'s rows, read as the superuser from ``database``."""
        return self.admin(sql, database)

    def stop(self) -> None:
        """Shut the server down (``pg_ctl stop -m fast``: clients are disconnected), as a
        restart or maintenance does; ``start`` brings it back on the same port."""
        _pg_ctl(self.bin_dir, self.folder, ["-m", "fast", "-w", "stop"])

    def start(self) -> None:
        """Start the stopped server again, as it was."""
        done = _pg_ctl(self.bin_dir, self.folder, ["-o", f"-p {self.port} {self.options}", *_START])
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr[-500:]}")


_START = ["-w", "-t", "30", "start"]


def _pg_ctl(bin_dir: Path, folder: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """``pg_ctl`` on the cluster in ``folder`` (its log beside it), as the owner."""
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    env.pop("PGPASSWORD", None)
    data = folder / "data"
    cmd = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), *args]
    return subprocess.run(_as_owner(cmd), capture_output=True, text=True, env=env)


def _as_owner(cmd: list[str]) -> list[str]:
    """``cmd`` run as ``nobody`` when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "nobody", "--", *cmd]
    return cmd


@contextlib.contextmanager
def running_cluster(durable: bool = False) -> Iterator[PgCluster]:
    """Start a cluster, yield it, stop it and remove its folder. ``durable`` keeps fsync on
    (the benchmarks); tests turn it off for speed (the data are thrown away)."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="ttpg-"))
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(ADMIN_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "nobody", "nogroup")
        shutil.chown(pwfile, "nobody", "nogroup")
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    env.pop("PGPASSWORD", None)
    subprocess.run(
        _as_owner(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-N",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
        env=env,
    )
    options = f"-k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    cluster = None
    try:
        for _attempt in range(5):
            port = _free_port()
            started = subprocess.run(
                _as_owner(
                    [
                        str(bin_dir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-o",
                        f"-p {port} {options}",
                        "-l",
                        str(folder / "log"),
                        "-w",
                        "-t",
                        "30",
                        "start",
                    ]
                ),
                capture_output=True,
                env=env,
            )
            if started.returncode == 0:
                cluster = PgCluster(folder, port, bin_dir, options)
                break
        if cluster is None:
            raise RuntimeError(f"PostgreSQL did not start: {(folder / 'log').read_text()[-500:]}")
        cluster.admin(f"CREATE ROLE {TRADER} LOGIN PASSWORD '{TRADER_PASSWORD}' CREATEDB")
        yield cluster
    finally:
        subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            env=env,
        )
        shutil.rmtree(folder, ignore_errors=True)
