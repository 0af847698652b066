"""``make bench`` / ``roamhub bench``: the hub under load, beside the baselines that give each figure meaning.

For each backend (SQLite; PostgreSQL with 1 and with 2 hub workers) it makes a temporary directory and a
fresh database, admits the parties with the CLI (the fan-out receivers through the admin API), starts the
hub (``python -m hub serve``) as one or two processes on one port (SO_REUSEPORT), the partners
(:mod:`hub.bench.partners`), the pass-through proxy (:mod:`hub.bench.proxy`) and one load process per
measurement (:mod:`hub.bench.load`). With two or more cores the hub and the proxy run on the first core and
everything else on the second; the output says where each process ran.

Scenarios, each after a warm-up: real-time authorisation (saturation throughput, then p50/p99 at a fixed
rate below it: hub, direct, proxy); CDR ingest (sustained CDRs/s, POST-to-eMSP delay, exact counts);
location status fan-out (deliveries/s and time until every receiver has an update, against a bare aiohttp
client); OICP AuthorizeStart over mutual TLS, an OICP CPO answered by the OCPI eMSP (as real-time
authorisation; :mod:`hub.bench.oicp_report` says how it is set up); and the hub's resident memory (a soak
of mixed load in full mode).

For the OICP scenario the set-up also runs ``roamhub pki init``, admits an OICP CPO and gives it a client
certificate (``roamhub pki issue``); the hub listens for OICP on a second port with mutual TLS and reads
a small config file the bench writes (the AUP rate limit on AuthorizeStart lifted). A second proxy process
terminates mutual TLS in front of the direct OICP endpoint in the partners process.

Exit status: 0 when the instrument worked, whether or not the bars were met (the table says); 1 when the
instrument itself failed (a process died, a setup step or a measurement did not finish in time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from hub.bench import CPO, EMSP, Party, cdr_cpo_party, oicp_report, party_text, receiver_party
from hub.bench.oicp_wire import OICP_CPO, OPERATION, OPERATOR_ID, UNLIMITED
from hub.bench.report import Bar, Row, document, judged, notes, summary, table, write_json

DEFAULT_OUT = Path("var/bench/bench-results.json")
ADMIN_TOKEN = "bench-operator-" + uuid.uuid4().hex
POSTGRES_ENV = ("ROAMHUB_BENCH_POSTGRES_URL", "ROAMHUB_TEST_POSTGRES_URL")
REPO_ROOT = Path(__file__).resolve().parents[2]
BARE_CONCURRENCY = 64  # the hub's broadcaster sends at most 64 requests at once (hub/ocpi/broadcast.py)
LEDGER_NOTE = (
    "each acknowledged CDR must be booked exactly once in the ledger (counted in the hub's database)"
)


class InstrumentError(RuntimeError):
    """The benchmark itself failed (not the hub missing a bar): exit status 1."""


# Each open-loop load of the soak (authorisation, CDRs, OICP) runs at this share of its own saturation, so
# together they take half of the hub's core, and fan-out (closed loop, one update at a time) the rest. At a
# quarter each they summed to three quarters: the machine's speed moves more than that margin between the
# saturation runs and the soak, and past saturation requests queued and memory followed the queue (+36 %
# and, once, a collapse into 10 s timeouts): overload, not the leak the memory bar looks for. Admission
# control (hub/admission.py) now refuses the excess with 503 instead; ``--soak-share 0.45`` shows it.
SOAK_SHARE = 1 / 6


@dataclass(frozen=True)
class Profile:
    name: str
    warmup: float
    seconds: float
    concurrency: int
    receivers: int
    window: int
    rate_fraction: float
    drain_timeout: float
    soak_seconds: float
    cdr_cpos: int  # CPOs POSTing CDRs side by side, the bench CPO included (each its own ordered line)
    soak_share: float = SOAK_SHARE
    max_in_flight: int | None = None  # the hub's own default unless given (--max-in-flight)


# Scenario 4 (OICP) made `make bench` longer: every warm-up and window is 35 % shorter than it was
# (1.5 s, 4 s), so the whole run, with the five-minute soak, stays under 10 minutes on 2 cores.
FULL = Profile("full", 1.0, 2.6, 16, 50, 4, 0.5, 60.0, 300.0, 4)
QUICK = Profile("quick", 0.2, 0.7, 8, 10, 4, 0.5, 20.0, 0.0, 2)


# --- processes and where they run --------------------------------------------------------------------


@dataclass(frozen=True)
class Cores:
    hub: set[int] | None  # the hub's workers and the proxy baseline
    other: set[int] | None  # partners, load generators, this orchestrator

    @classmethod
    def detect(cls) -> Cores:
        available = sorted(os.sched_getaffinity(0))
        if len(available) < 2:
            return cls(None, None)
        return cls({available[0]}, {available[1]})

    def text(self, cores: set[int] | None) -> str:
        return "unpinned (one core)" if cores is None else "core " + ",".join(map(str, sorted(cores)))


def pin(pid: int, cores: set[int] | None) -> None:
    """Every thread of ``pid`` onto ``cores`` (threads started later inherit it)."""
    if cores is None:
        return
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(int(tid), cores)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise InstrumentError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ms_per(seconds: float, count: int) -> float | None:
    return round(1000 * seconds / count, 3) if count else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    # Nothing of the caller's ROAMHUB_* (ROAMHUB_BENCH_* would even be an unknown setting to the hub).
    env = {name: value for name, value in os.environ.items() if not name.startswith("ROAMHUB_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return {**env, **extra}


@dataclass
class Child:
    role: str
    process: asyncio.subprocess.Process
    cores: set[int] | None
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def failed(self, what: str) -> InstrumentError:
        return InstrumentError(f"{self.role} (pid {self.pid}) {what}\n{self.log_tail()}")

    async def ready_line(self, timeout: float) -> dict[str, Any]:
        """The first JSON line with ``"ready"`` on the child's stdout."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.failed(f"was not ready within {timeout:.0f} s")
            try:
                line = await asyncio.wait_for(self.process.stdout.readline(), remaining)
            except TimeoutError:
                continue
            if not line:
                raise self.failed(f"exited ({await self.process.wait()}) before it was ready")
            with contextlib.suppress(ValueError):
                data = json.loads(line)
                if isinstance(data, dict) and data.get("ready"):
                    return data

    async def result(self, timeout: float) -> dict[str, Any]:
        """The last JSON line on stdout once the child exits (a load generator)."""
        try:
            out, _ = await asyncio.wait_for(self.process.communicate(), timeout)
        except TimeoutError:
            await self.stop()
            raise self.failed(f"did not finish within {timeout:.0f} s") from None
        if self.process.returncode != 0:
            raise self.failed(f"exited with {self.process.returncode}")
        return self._json(out.decode())

    def _json(self, text: str) -> dict[str, Any]:
        """The whole of stdout as JSON (the CLI), or else its last JSON line (a load generator).

        ``roamhub pki`` logs to stdout before its JSON, so a CLI's JSON may also start at a line of its own.
        """
        lines = text.splitlines()
        opening = next((i for i, line in enumerate(lines) if line == "{"), len(lines))
        candidates = (
            text,
            "\n".join(lines[opening:]),
            *[line for line in lines if line.startswith("{")][-1:],
        )
        for candidate in candidates:
            with contextlib.suppress(ValueError):
                data = json.loads(candidate)
                if isinstance(data, dict):
                    return data
        raise self.failed("printed no JSON result")

    async def stop(self) -> None:
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


@dataclass
class Launcher:
    """Starts children in one working directory, pins them, and remembers where each ran."""

    workdir: Path
    env: dict[str, str]
    placements: list[dict[str, Any]] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)

    async def stop_all(self) -> None:
        """Whatever is still running (a load generator of an interrupted measurement too)."""
        for child in reversed(self.children):
            await child.stop()

    async def spawn(self, role: str, argv: Sequence[str], cores: set[int] | None) -> Child:
        log = self.workdir / f"{role.replace(' ', '-').replace('/', '-')}.log"
        with log.open("ab") as err:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
            )
        pin(process.pid, cores)
        self.placements.append({"role": role, "pid": process.pid, "cores": sorted(cores) if cores else None})
        self.children.append(Child(role, process, cores, log))
        return self.children[-1]

    async def module(self, role: str, module: str, args: Sequence[str], cores: set[int] | None) -> Child:
        return await self.spawn(role, [sys.executable, "-m", module, *args], cores)


# --- PostgreSQL --------------------------------------------------------------------------------------


def postgres_server_url() -> str | None:
    return next((os.environ[name] for name in POSTGRES_ENV if os.environ.get(name)), None)


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_postgres_database(server: str) -> tuple[str, str]:
    """A fresh ``roamhub_bench_<random>`` database on ``server``: (its URL, its name)."""
    import asyncpg  # type: ignore[import-untyped]

    name = f"roamhub_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_plain(server), timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}", name


async def drop_postgres_database(server: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(_plain(server), timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def postgres_unavailable() -> str | None:
    """Why PostgreSQL runs are skipped, or None when the server answers."""
    server = postgres_server_url()
    if server is None:
        return f"PostgreSQL runs skipped: neither {' nor '.join(POSTGRES_ENV)} is set"
    import asyncpg

    try:
        connection = await asyncpg.connect(_plain(server), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return (
            f"PostgreSQL runs skipped: {urlsplit(_plain(server)).hostname} unreachable ({type(exc).__name__})"
        )
    await connection.close()
    return None


# --- reading the hub's database (read only) ----------------------------------------------------------


async def count_stored_cdrs(db_url: str, prefix: str) -> int:
    from sqlalchemy import func, select
    from sqlmodel import col

    from hub.config import DatabaseSettings
    from hub.store.db import Database
    from hub.store.models import Cdr

    db = Database(DatabaseSettings(url=db_url))
    try:
        async with db.session() as session:
            query = select(func.count()).select_from(Cdr).where(col(Cdr.cdr_id).startswith(prefix))
            return int((await session.execute(query)).scalar_one())
    finally:
        await db.close()


async def outbox_backlog(db_url: str) -> int:
    from sqlalchemy import func, select
    from sqlmodel import col

    from hub.config import DatabaseSettings
    from hub.store.db import Database
    from hub.store.models import OutboxItem

    db = Database(DatabaseSettings(url=db_url))
    try:
        async with db.session() as session:
            query = (
                select(func.count())
                .select_from(OutboxItem)
                .where(col(OutboxItem.delivered_at).is_(None), col(OutboxItem.dead_at).is_(None))
            )
            return int((await session.execute(query)).scalar_one())
    finally:
        await db.close()


async def ledger_booked(db_url: str, cdr_ids: Sequence[str]) -> int | None:
    """How many of ``cdr_ids`` the ledger booked (each CDR is booked in the transaction that stores it)."""
    from sqlalchemy import func, select
    from sqlmodel import col

    from hub.config import DatabaseSettings
    from hub.store.db import Database
    from hub.store.models import Cdr, JournalEntry

    wanted = set(cdr_ids)
    db = Database(DatabaseSettings(url=db_url))
    try:
        async with db.session() as session:
            query = (
                select(col(Cdr.cdr_id), func.count(col(JournalEntry.id)))
                .join(JournalEntry, col(JournalEntry.source_cdr_fk) == col(Cdr.id))
                .group_by(col(Cdr.cdr_id))
            )
            rows = (await session.execute(query)).all()
    finally:
        await db.close()
    return sum(int(count) for cdr_id, count in rows if cdr_id in wanted)


# --- one backend -------------------------------------------------------------------------------------


@dataclass
class Target:
    """Where a load generator sends: an endpoint and the token it presents there."""

    name: str  # "hub", "direct", "proxy"
    url: str
    token: str
    senders: list[list[str]] | None = None  # CDRs: [party, token] of each CPO POSTing them, in turn
    pids: tuple[int, ...] = ()  # the processes serving it whose CPU is counted (none for direct)

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise InstrumentError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(every)


def _listening(port: int) -> int:
    """Sockets listening on 127.0.0.1:port (one per hub worker under SO_REUSEPORT)."""
    wanted = f"0100007F:{port:04X}"
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        count += fields[1] == wanted and fields[3] == "0A"
    return count


_T0 = time.monotonic()


def say(text: str) -> None:
    """Progress on stdout, with the seconds since the start."""
    print(f"{time.monotonic() - _T0:6.1f}s {text}" if text else "", flush=True)


class BackendRun:
    """Everything measured on one backend with a given number of hub workers."""

    def __init__(self, backend: str, workers: int, profile: Profile, cores: Cores, keep: bool) -> None:
        self.backend, self.workers, self.profile, self.cores, self.keep = (
            backend,
            workers,
            profile,
            cores,
            keep,
        )
        self.label = f"{backend}/{workers}"
        self.workdir = Path(tempfile.mkdtemp(prefix=f"roamhub-bench-{backend}{workers}-"))
        self.port = free_port()
        self.hub_url = f"http://127.0.0.1:{self.port}"
        self.tls_port = free_port()
        self.oicp_url = f"https://127.0.0.1:{self.tls_port}"
        self.cpo_files: dict[str, str] = {}  # the OICP CPO's key, cert and the hub's CA (roamhub pki issue)
        self.listener_files: dict[str, str] = {}  # the hub's server cert and key, its partner CA
        self.db_url = f"sqlite+aiosqlite:///{self.workdir / 'hub.db'}"
        self.pg_name: str | None = None
        self.launcher = Launcher(self.workdir, {})
        self.profile_dir: Path | None = None  # --profile-hub: each hub worker under cProfile
        self.hubs: list[Child] = []
        self.others: list[Child] = []
        self.proxy_pids: tuple[int, ...] = ()
        self.proxy_oicp_pids: tuple[int, ...] = ()
        self.info: dict[str, Any] = {}
        self.rows: list[Row] = []
        self.details: dict[str, Any] = {"backend": backend, "workers": workers}
        self.http: aiohttp.ClientSession | None = None

    # --- set-up and tear-down ------------------------------------------------------------------------

    async def set_up(self) -> None:
        if self.backend == "postgres":
            server = postgres_server_url()
            assert server is not None
            self.db_url, self.pg_name = await create_postgres_database(server)
        self.launcher.env = _child_env(
            {
                "ROAMHUB_DATABASE_URL": self.db_url,
                "ROAMHUB_PUBLIC_URL": self.hub_url,
                "ROAMHUB_LOG_LEVEL": "warning",
                "ROAMHUB_ADMIN_TOKEN": ADMIN_TOKEN,
                "ROAMHUB_DATA_DIR": str(self.workdir / "var"),
                "ROAMHUB_SECURITY_SECRET_KEY_FILE": str(self.workdir / "var" / "secret.key"),
                "ROAMHUB_OICP_LISTEN_PORT": str(self.tls_port),
                "ROAMHUB_CONFIG": str(oicp_report.hub_config(self.workdir / "roamhub.toml")),
            }
            | (
                {"ROAMHUB_MAX_IN_FLIGHT": str(self.profile.max_in_flight)}
                if self.profile.max_in_flight is not None
                else {}
            )
        )
        self.details["oicp_hub_config"] = config = oicp_report.effective_config(self.launcher.env)
        if config["rate_limits"][OPERATION] != UNLIMITED:
            raise InstrumentError(f"the hub would still rate-limit {OPERATION}: {config}")
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.profile.drain_timeout + 120)
        )
        # `pki init` writes files only, so it runs beside the first admission (which creates the schema);
        # the other admissions then run side by side (a CLI process takes seconds to start).
        cpo, _ = await asyncio.gather(self.cli_admit(CPO, "CPO"), self.pki_init())
        emsp, oicp = await asyncio.gather(self.cli_admit(EMSP, "EMSP"), self.oicp_cpo())
        parties: dict[str, Any] = {"cpo": cpo, "emsp": emsp, "oicp": oicp}
        await self.start_hub()
        say(f"[{self.label}] hub up ({self.workers} worker(s)); admitting and registering the partners")
        receivers = [receiver_party(n) for n in range(1, self.profile.receivers)]
        parties["receivers"] = await self.api_admit(receivers, "EMSP")
        cdr_cpos = [cdr_cpo_party(n) for n in range(1, self.profile.cdr_cpos)]
        parties["cdr_cpos"] = await self.api_admit(cdr_cpos, "CPO")
        await self.start_partners(parties)
        say(f"[{self.label}] partners registered; waiting for the hub's outbox to drain")
        await self.quiet_outbox()
        await self.start_proxy()
        self.print_placement()

    async def cli_admit(self, party: tuple[str, str], role: str) -> dict[str, Any]:
        argv = ["party", "add", "--name", f"Bench {role}", "--country", party[0], "--party-id", party[1]]
        argv += ["--role", role, "--protocol", "ocpi", "--json"]
        child = await self.launcher.module(
            f"cli party add {party_text(party)}", "hub", argv, self.cores.other
        )
        view = await child.result(timeout=120)
        return {"versions_url": view["versions_url"], "token_a": view["token_a"], "party": party_text(party)}

    async def cli(self, role: str, argv: list[str]) -> dict[str, Any]:
        child = await self.launcher.module(f"cli {role}", "hub", [*argv, "--json"], self.cores.other)
        return await child.result(timeout=120)

    async def pki_init(self) -> None:
        """The partner CA and the server certificate: the hub's OICP listener (and the baselines') files."""
        pki = (await self.cli("pki init", ["pki", "init"]))["files"]
        self.listener_files = {"server_cert": pki["server.crt"], "server_key": pki["server.key"]}
        self.listener_files["ca"] = pki["ca.crt"]

    async def oicp_cpo(self) -> dict[str, str]:
        """The OICP CPO, admitted with the CLI, and its client certificate; the listener's files."""
        argv = ["party", "add", "--name", "Bench OICP CPO", "--country", OICP_CPO[0], "--party-id"]
        argv += [OICP_CPO[1], "--role", "CPO", "--protocol", "oicp", "--operator-id", OPERATOR_ID]
        party = await self.cli(f"party add {party_text(OICP_CPO)}", argv)
        out = self.workdir / "oicp-cpo"
        issued = await self.cli("pki issue", ["pki", "issue", str(party["id"]), "--out", str(out)])
        paths = list(issued["files"].values())
        self.cpo_files = {
            "key": next(f for f in paths if f.endswith(".key")),
            "cert": next(f for f in paths if f.endswith(".crt") and not f.endswith("ca.crt")),
            "ca": next(f for f in paths if f.endswith("ca.crt")),
        }
        return self.listener_files

    async def start_hub(self) -> None:
        for number in range(1, self.workers + 1):
            role = f"hub worker {number}"
            argv = ["serve", "--port", str(self.port)]
            if self.profile_dir is None:
                child = await self.launcher.module(role, "hub", argv, self.cores.hub)
            else:  # cProfile writes its file when the worker stops cleanly (SIGTERM)
                out = self.profile_dir / f"{self.backend}{self.workers}-worker{number}.prof"
                argv = ["-o", str(out), "-m", "hub", *argv]
                child = await self.launcher.module(role, "cProfile", argv, self.cores.hub)
            self.hubs.append(child)

            async def listening(count: int = number, worker: Child = child) -> bool:
                if worker.process.returncode is not None:
                    raise worker.failed("exited while starting")
                return _listening(self.port) >= count and _listening(self.tls_port) >= count

            await _until(listening, 90, f"{role} listening on {self.port}")
        await _until(self.healthy, 30, "hub /healthz")
        for worker in self.hubs:
            pin(worker.pid, self.cores.hub)

    async def healthy(self) -> bool:
        assert self.http is not None
        try:
            async with self.http.get(f"{self.hub_url}/healthz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async def api_admit(self, parties: list[Party], role: str) -> list[dict[str, Any]]:
        """More parties through the admin API (the fan-out receivers, the other CDR CPOs): a CLI process
        each would take a minute."""
        assert self.http is not None
        admitted = []
        for party in parties:
            body: dict[str, Any] = {"name": f"Bench {role} {party_text(party)}", "roles": [role]}
            body["protocol"] = "ocpi"
            body |= {"country_code": party[0], "party_id": party[1]}
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            async with self.http.post(
                f"{self.hub_url}/admin/api/parties", json=body, headers=headers
            ) as answer:
                if answer.status != 201:
                    raise InstrumentError(f"admin API refused {party_text(party)}: {await answer.text()}")
                view = await answer.json()
            admitted.append({"versions_url": view["versions_url"], "token_a": view["token_a"]})
            admitted[-1]["party"] = party_text(party)
        return admitted

    async def start_partners(self, parties: dict[str, Any]) -> None:
        setup = self.workdir / "partners.json"
        setup.write_text(json.dumps({"hub_url": self.hub_url, **parties}))
        child = await self.launcher.module(
            "partners", "hub.bench.partners", ["--setup", str(setup)], self.cores.other
        )
        self.others.append(child)
        self.info = await child.ready_line(timeout=180)

    async def quiet_outbox(self) -> None:
        """Registration queues HubClientInfo pushes to every party; measure after they are done."""
        with contextlib.suppress(InstrumentError):
            await _until(lambda: self._outbox_empty(), 60, "outbox drained after registration", every=0.5)

    async def _outbox_empty(self) -> bool:
        return await outbox_backlog(self.db_url) == 0

    async def start_proxy(self) -> None:
        args = ["--upstream", self.info["emsp"]["base_url"]]
        child = await self.launcher.module("proxy", "hub.bench.proxy", args, self.cores.hub)
        self.others.append(child)
        self.info["proxy"] = f"http://127.0.0.1:{(await child.ready_line(timeout=60))['port']}"
        self.proxy_pids = (child.pid,)
        tls = self.listener_files
        args = ["--upstream", self.info["oicp_direct"]["plain"], "--tls-cert", tls["server_cert"]]
        args += ["--tls-key", tls["server_key"], "--tls-ca", tls["ca"]]
        child = await self.launcher.module("proxy oicp", "hub.bench.proxy", args, self.cores.hub)
        self.others.append(child)
        self.info["proxy_oicp"] = f"https://127.0.0.1:{(await child.ready_line(timeout=60))['port']}"
        self.proxy_oicp_pids = (child.pid,)

    def print_placement(self) -> None:
        say(f"[{self.label}] processes (hub and proxy baselines on one core, the rest on the other):")
        for child in [*self.hubs, *self.others]:
            say(f"  {child.role:<16} pid {child.pid:<8} {self.cores.text(child.cores)}")
        say(f"  {'direct OICP':<16} {'':<12} in the partners process (mutual TLS and plain HTTP)")
        say(f"  {'load generators':<16} {'':<12} {self.cores.text(self.cores.other)}")
        say(f"  {'bare fan-out':<16} {'':<12} {self.cores.text(self.cores.hub)} (it stands in for the hub)")
        say(f"  {'orchestrator':<16} pid {os.getpid():<8} {self.cores.text(self.cores.other)}")

    async def tear_down(self) -> None:
        await self.launcher.stop_all()
        if self.http is not None:
            await self.http.close()
        server = postgres_server_url()
        if self.pg_name is not None and server is not None:
            with contextlib.suppress(Exception):
                await drop_postgres_database(server, self.pg_name)
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # --- helpers -------------------------------------------------------------------------------------

    def hub_rss_kib(self) -> int:
        return sum(rss_kib(worker.pid) for worker in self.hubs)

    @property
    def hub_pids(self) -> tuple[int, ...]:
        return tuple(worker.pid for worker in self.hubs)

    def check_hub_alive(self) -> None:
        for worker in self.hubs:
            if worker.process.returncode is not None:
                raise worker.failed(f"exited ({worker.process.returncode}) during the run")

    def targets(self, module: str) -> dict[str, Target]:
        key = "tokens_sender" if module == "tokens" else "cdrs_receiver"
        direct, emsp_token = self.info["emsp"][key], self.info["emsp"]["token"]
        hub_senders = self.info["hub"]["cdr_senders"] if module == "cdrs" else None
        # The baselines send each CPO's CDRs straight to the eMSP, with the token the hub presents there.
        senders = [[party, emsp_token] for party, _ in hub_senders] if hub_senders else None
        return {
            "hub": Target(
                "hub", self.info["hub"][key], self.info["hub"]["token"], hub_senders, self.hub_pids
            ),
            "direct": Target("direct", direct, emsp_token, senders),
            "proxy": Target(
                "proxy", self.info["proxy"] + urlsplit(direct).path, emsp_token, senders, self.proxy_pids
            ),
        }

    def oicp_targets(self) -> dict[str, Target]:
        """Where an OICP CPO sends AuthorizeStart: the hub's listener, the direct endpoint, the TLS proxy."""
        return {
            "hub": Target("hub", self.oicp_url, "", pids=self.hub_pids),
            "direct": Target("direct", self.info["oicp_direct"]["tls"], ""),
            "proxy": Target("proxy", self.info["proxy_oicp"], "", pids=self.proxy_oicp_pids),
        }

    def oicp_flags(self) -> list[str]:
        files = self.cpo_files
        return ["--kind", "oicp-authorize", *(f"--{name}={files[name]}" for name in ("cert", "key", "ca"))]

    async def load(
        self, mode: str, target: Target, *extra: str, seconds: float, warmup: float
    ) -> dict[str, Any]:
        args = [mode, f"--url={target.url}", f"--token={target.token}", f"--from={party_text(CPO)}"]
        if target.senders:
            args.append(f"--senders={json.dumps(target.senders)}")
        args += ["--to", party_text(EMSP), "--seconds", str(seconds), "--warmup", str(warmup), *extra]
        child = await self.launcher.module(
            f"load {mode} {target.name}", "hub.bench.load", args, self.cores.other
        )
        cpu = target.cpu_seconds()
        result = await child.result(timeout=seconds + warmup + 60)
        if target.pids:  # the hub's or the proxy's CPU over this load (its warm-up included)
            result["cpu_seconds"] = round(target.cpu_seconds() - cpu, 3)
        self.check_hub_alive()
        return result

    async def control(self, method: str, path: str, timeout: float = 60.0) -> dict[str, Any]:
        assert self.http is not None
        bounded = aiohttp.ClientTimeout(total=timeout)
        async with self.http.request(method, self.info["control"] + path, timeout=bounded) as answer:
            if answer.status != 200:
                raise InstrumentError(f"partners control {method} {path}: HTTP {answer.status}")
            data: dict[str, Any] = await answer.json()
            return data

    async def hub_fanout(self, seconds: float, window: int) -> dict[str, Any]:
        """The partners' CPO broadcasting through the hub (updates still under way may take a while)."""
        return await self.control("POST", f"/fanout?seconds={seconds}&window={window}", seconds + 90)

    def row(self, scenario: str, figure: str, unit: str, hub: float | None, **values: Any) -> Row:
        return Row(scenario, self.backend, self.workers, figure, unit, hub, **values)

    # --- the scenarios -------------------------------------------------------------------------------

    async def warm_up(self) -> None:
        """Every code path once before the first figure, then the hub's resident memory when warm."""
        p = self.profile
        await self.load(
            "saturate", self.targets("tokens")["hub"], "--kind", "authorize", seconds=p.warmup, warmup=0
        )
        await self.load(
            "saturate",
            self.targets("cdrs")["hub"],
            "--kind",
            "cdr",
            "--prefix",
            "X",
            seconds=p.warmup,
            warmup=0,
        )
        await self.hub_fanout(p.warmup, p.window)
        await self.load(
            "saturate", self.oicp_targets()["hub"], *self.oicp_flags(), seconds=p.warmup, warmup=0
        )
        self.details["rss_warm_kib"] = self.hub_rss_kib()

    async def authorization(self) -> None:
        p = self.profile
        say(f"[{self.label}] authorisation: saturation, {p.concurrency} concurrent, {p.seconds:g} s each")
        concurrency = ["--kind", "authorize", "--concurrency", str(p.concurrency)]
        targets = self.targets("tokens")
        saturation = {
            name: await self.load("saturate", target, *concurrency, seconds=p.seconds, warmup=p.warmup)
            for name, target in targets.items()
        }
        rate = max(10.0, round(p.rate_fraction * saturation["hub"]["per_s"]))
        say(f"[{self.label}] authorisation: latency at {rate:g} req/s ({p.rate_fraction:.0%} of its max)")
        fixed = ["--kind", "authorize", "--rate", str(rate)]
        latency = {  # each target is warm from its saturation run: a short ramp-up is enough
            name: await self.load("rate", target, *fixed, seconds=p.seconds, warmup=min(p.warmup, 0.5))
            for name, target in targets.items()
        }
        self.details["authorization"] = {"saturation": saturation, "rate": rate, "latency": latency}
        self.rows += authorization_rows(self, saturation, latency, rate)
        self.rows.append(cpu_row(self, "authorization", "CPU per authorisation", saturation))

    async def cdr_ingest(self) -> None:
        p = self.profile
        say(
            f"[{self.label}] CDR ingest: {p.cdr_cpos} CPOs POST at saturation, {p.concurrency} concurrent,"
            f" {p.seconds:g} s"
        )
        await self.control("POST", "/reset")
        ids_file = self.workdir / "acked-cdrs.txt"
        flags = ["--kind", "cdr", "--concurrency", str(p.concurrency)]
        targets = self.targets("cdrs")
        cpu = targets["hub"].cpu_seconds()
        hub = await self.load(
            "saturate",
            targets["hub"],
            *flags,
            "--prefix",
            "H",
            "--ids-out",
            str(ids_file),
            seconds=p.seconds,
            warmup=p.warmup,
        )
        acked = [line for line in ids_file.read_text().splitlines() if line]
        received = await self.delivered_cdrs("H", "Hm", len(acked))
        stored = await count_stored_cdrs(self.db_url, "H")
        # The hub's CPU from the first POST until the last CDR reached the eMSP, per CDR stored (in place
        # of what load() counted, which ends with the POSTs).
        hub |= {"cpu_seconds": round(targets["hub"].cpu_seconds() - cpu, 3), "cpu_per": stored}
        booked = await ledger_booked(self.db_url, acked)
        baselines = {
            name: await self.load(
                "saturate",
                targets[name],
                *flags,
                "--prefix",
                name[0].upper(),
                seconds=p.seconds,
                warmup=p.warmup,
            )
            for name in ("direct", "proxy")
        }
        counts = cdr_counts(acked, received, stored, booked)
        self.details["cdr_ingest"] = {"hub": hub, "baselines": baselines, "counts": counts}
        self.details["cdr_ingest"]["delivered"] = {k: v for k, v in received.items() if k != "ids"}
        self.rows += cdr_rows(self, hub, baselines, received, counts)
        self.rows.append(cpu_row(self, "cdr_ingest", "CPU per CDR", {"hub": hub, **baselines}))
        await self.control("POST", "/reset")

    async def delivered_cdrs(self, prefix: str, timed: str, expected: int) -> dict[str, Any]:
        """The eMSP's view once it has every acknowledged CDR, or once the drain timeout passed."""
        deadline = time.monotonic() + self.profile.drain_timeout
        while True:
            stats = await self.control("GET", f"/cdrs?prefix={prefix}&timed={timed}")
            if stats["distinct"] >= expected or time.monotonic() > deadline:
                return stats
            await asyncio.sleep(0.2)

    async def fanout(self) -> None:
        p = self.profile
        receivers = len(self.info["receivers"])
        say(f"[{self.label}] fan-out: {receivers} receivers, {p.window} updates in flight, {p.seconds:g} s")
        await self.hub_fanout(p.warmup, p.window)
        await self.control("POST", "/reset")
        hub = await self.hub_fanout(p.seconds, p.window)
        seen = await self.control("GET", "/receivers")
        bare = await self.bare_fanout()
        missing = sum(
            max(0, hub["updates"] - seen["counts"].get(r["party"], 0)) for r in self.info["receivers"]
        )
        self.details["fanout"] = {"hub": hub, "bare": bare, "receivers": seen, "missing_deliveries": missing}
        self.rows += fanout_rows(self, hub, bare, missing)

    async def bare_fanout(self) -> dict[str, Any]:
        """The bare aiohttp client against the same receivers, on the hub's core (the hub is idle now)."""
        p = self.profile
        targets = self.workdir / "receivers.json"
        targets.write_text(json.dumps(self.info["receivers"]))
        args = ["fanout", "--targets", str(targets), "--window", str(p.window)]
        args += [
            "--concurrency",
            str(BARE_CONCURRENCY),
            "--seconds",
            str(p.seconds),
            "--warmup",
            str(p.warmup),
        ]
        child = await self.launcher.module("load fanout bare", "hub.bench.load", args, self.cores.hub)
        return await child.result(timeout=p.seconds + p.warmup + 60)

    async def oicp(self) -> None:
        """AuthorizeStart as real-time authorisation is measured, and the eMSP asked for each one."""
        p = self.profile
        say(f"[{self.label}] OICP AuthorizeStart (mutual TLS): saturation, {p.concurrency} concurrent")
        flags, targets = self.oicp_flags(), self.oicp_targets()
        concurrency = ["--concurrency", str(p.concurrency)]

        async def saturate(name: str) -> dict[str, Any]:
            return await self.load(
                "saturate", targets[name], *flags, *concurrency, seconds=p.seconds, warmup=p.warmup
            )

        before = await self.control("GET", "/authorizations")
        saturation = {"hub": await saturate("hub")}
        after = await self.control("GET", "/authorizations")
        saturation |= {name: await saturate(name) for name in ("direct", "proxy")}
        asked = {who: after[who] - before[who] for who in ("emsp", "receivers")}
        forwarded = oicp_report.forwarding(saturation["hub"], asked)
        rate = max(1.0, round(p.rate_fraction * saturation["hub"]["per_s"]))
        say(f"[{self.label}] OICP AuthorizeStart: latency at {rate:g} req/s ({p.rate_fraction:.0%} of max)")
        latency = {
            name: await self.load(
                "rate", target, *flags, "--rate", str(rate), seconds=p.seconds, warmup=min(p.warmup, 0.5)
            )
            for name, target in targets.items()
        }
        measured = {"saturation": saturation, "latency": latency}
        self.details["oicp_authorize_start"] = {**measured, "rate": rate, "forwarded": forwarded}
        self.rows += oicp_report.rows(self.backend, self.workers, measured, rate, p.rate_fraction, forwarded)
        self.rows.append(cpu_row(self, oicp_report.SCENARIO, "CPU per AuthorizeStart", saturation))

    def memory(self) -> None:
        warm, end = self.details["rss_warm_kib"], self.hub_rss_kib()
        self.details["rss_end_kib"] = end
        growth = round((end - warm) / warm * 100, 1)
        row = self.row("memory", "hub RSS warm→end", "%", growth)
        row.extra = {"warm_mib": round(warm / 1024, 1), "end_mib": round(end / 1024, 1)}
        row.note = "memory: the RSS rows sum every hub worker; the bar applies to the soak only"
        self.rows.append(row)

    def oicp_soak_load(self, seconds: float) -> list[Awaitable[dict[str, Any]]]:
        """AuthorizeStart over mutual TLS at a sixth of its saturation, when that scenario ran: the soak
        then covers the OICP listener, its certificate cache and the sessions it writes too."""
        measured = self.details.get("oicp_authorize_start")
        if measured is None:
            return []
        rate = max(1.0, round(self.profile.soak_share * measured["saturation"]["hub"]["per_s"]))
        self.details["soak_oicp_rate"] = rate
        flags = [*self.oicp_flags(), "--rate", str(rate)]
        return [self.load("rate", self.oicp_targets()["hub"], *flags, seconds=seconds, warmup=0)]

    async def soak(self, seconds: float) -> None:
        """Mixed load at a fraction of saturation for ``seconds``; the hub's RSS sampled every 5 s."""
        with_oicp = ", OICP AuthorizeStart" if "oicp_authorize_start" in self.details else ""
        say(f"[{self.label}] memory soak: {seconds:g} s of authorisations, CDRs, fan-out{with_oicp}")
        auth_rate = max(
            10.0, round(self.profile.soak_share * self.details["authorization"]["saturation"]["hub"]["per_s"])
        )
        cdr_rate = max(
            10.0, min(200.0, round(self.profile.soak_share * self.details["cdr_ingest"]["hub"]["per_s"]))
        )
        samples: list[tuple[float, int]] = []
        loads = asyncio.gather(
            self.load(
                "rate", self.targets("tokens")["hub"], "--rate", str(auth_rate), seconds=seconds, warmup=0
            ),
            self.load(
                "rate",
                self.targets("cdrs")["hub"],
                "--kind",
                "cdr",
                "--prefix",
                "S",
                "--rate",
                str(cdr_rate),
                seconds=seconds,
                warmup=0,
            ),
            self.hub_fanout(seconds, 1),
            *self.oicp_soak_load(seconds),
        )
        started = time.monotonic()
        while not loads.done():
            samples.append((round(time.monotonic() - started, 1), self.hub_rss_kib()))
            await asyncio.wait({loads}, timeout=5)
        results = await loads
        self.rows.append(soak_row(self, seconds, samples))
        answered, refused = soak_answers(results)
        self.rows.append(self.row("memory", "soak: open-loop requests answered", " %", answered))
        self.rows.append(self.row("memory", "soak: refused at max_in_flight (HTTP 503)", "", refused))
        self.details["soak"] = {
            "seconds": seconds,
            "rss_kib": samples,
            "auth_rate": auth_rate,
            "cdr_rate": cdr_rate,
            "share": self.profile.soak_share,
        }
        self.details["soak"]["loads"] = results


# --- rows --------------------------------------------------------------------------------------------


CPU_NOTE = (
    "CPU per request: user+system CPU of every hub worker, or of the proxy, over its saturation run (warm-up"
    " included), per request answered; for CDRs the hub's runs on until the last CDR reached the eMSP and is"
    " per CDR stored, in and out, the proxy's per CDR relayed once. The ratio is how many bare Python hops"
    " the hub's work is worth; it moves less between runs than throughput, which depends on what the load"
    " generators and partners get of the other core"
)


def cpu_ms(result: dict[str, Any]) -> float | None:
    """Milliseconds of CPU per request (or per ``cpu_per``) of a load result that measured CPU."""
    if "cpu_seconds" not in result:
        return None
    count = result.get("cpu_per", int(result["completed"]) + int(result["warmup"]["completed"]))
    return cpu_ms_per(result["cpu_seconds"], count)


def cpu_row(run: BackendRun, scenario: str, figure: str, results: dict[str, Any]) -> Row:
    hub, proxy = cpu_ms(results["hub"]), cpu_ms(results["proxy"])
    return judged(run.row(scenario, figure, "ms", hub, baseline=proxy, note=CPU_NOTE), None)


def _p(result: dict[str, Any], key: str) -> float | None:
    value = result["latency_ms"][key]
    return None if value is None else float(value)


def authorization_rows(
    run: BackendRun, saturation: dict[str, Any], latency: dict[str, Any], rate: float
) -> list[Row]:
    s, lat = saturation, latency
    share = f"{run.profile.rate_fraction:.0%}"
    note = f"authorisation latency at a fixed {rate:g} req/s ({share} of the hub's saturation throughput)"
    return [
        judged(
            run.row(
                "authorization",
                "throughput",
                "/s",
                s["hub"]["per_s"],
                direct=s["direct"]["per_s"],
                baseline=s["proxy"]["per_s"],
            ),
            Bar(">=", 0.5),
        ),
        judged(
            run.row(
                "authorization",
                f"p50 @ {rate:g}/s",
                "ms",
                _p(lat["hub"], "p50"),
                direct=_p(lat["direct"], "p50"),
                baseline=_p(lat["proxy"], "p50"),
                note=note,
            ),
            Bar("<=", 2.0),
        ),
        judged(
            run.row(
                "authorization",
                f"p99 @ {rate:g}/s",
                "ms",
                _p(lat["hub"], "p99"),
                direct=_p(lat["direct"], "p99"),
                baseline=_p(lat["proxy"], "p99"),
            ),
            None,
        ),
    ]


def cdr_counts(acked: list[str], received: dict[str, Any], stored: int, booked: int | None) -> dict[str, Any]:
    acknowledged, delivered = set(acked), set(received["ids"])
    return {
        "acknowledged": len(acknowledged),
        "stored": stored,
        "delivered": len(delivered),
        "posts_to_emsp": received["posts"],
        "lost": len(acknowledged - delivered),
        "unacknowledged_delivered": len(delivered - acknowledged),
        "duplicated": received["duplicates"],
        "booked": booked,
        "match": acknowledged == delivered
        and stored == len(acknowledged)
        and received["duplicates"] == 0
        and booked == len(acknowledged),
    }


def cdr_rows(
    run: BackendRun,
    hub: dict[str, Any],
    baselines: dict[str, Any],
    received: dict[str, Any],
    counts: dict[str, Any],
) -> list[Row]:
    sustained = None
    if received["timed"] and received["last_at"]:
        sustained = round(received["timed"] / max(received["last_at"] - hub["started_at"], 1e-9), 1)
    direct, proxy = baselines["direct"]["per_s"], baselines["proxy"]["per_s"]
    on_sqlite = run.backend == "sqlite"
    bar = Bar(">=", 1000, on_ratio=False, unit="/s") if on_sqlite else None
    note = "CDR baselines: the eMSP simulator's own POST throughput, direct and through the proxy (no commit)"
    rows = [
        judged(
            run.row(
                "cdr_ingest",
                "sustained (committed+delivered)",
                "/s",
                sustained,
                direct=direct,
                baseline=proxy,
                note=note,
            ),
            bar,
        ),
        judged(
            run.row(
                "cdr_ingest", "accepted (POST answered)", "/s", hub["per_s"], direct=direct, baseline=proxy
            ),
            None,
        ),
        judged(run.row("cdr_ingest", "p99 POST→eMSP receipt", "ms", received["delay_ms"]["p99"]), None),
        judged(
            run.row(
                "cdr_ingest",
                "acknowledged = stored = delivered = booked",
                "",
                counts["acknowledged"],
                extra=counts,
            ),
            None,
        ),
    ]
    rows[-1].passed = bool(counts["match"])
    rows[-1].bar = "exact"
    for figure in ("lost", "duplicated"):
        rows.append(judged(run.row("cdr_ingest", figure, "", counts[figure]), Bar("==", 0, on_ratio=False)))
    booked = judged(
        run.row("cdr_ingest", "booked in the ledger", "", counts["booked"], note=LEDGER_NOTE), None
    )
    booked.passed = counts["booked"] == counts["acknowledged"]
    booked.bar = "== acknowledged"
    rows.append(booked)
    return rows


def fanout_rows(run: BackendRun, hub: dict[str, Any], bare: dict[str, Any], missing: int) -> list[Row]:
    note = (
        "fan-out: an update counts when every receiver has it; bare = a plain aiohttp client PATCHing the "
        f"same receivers ({BARE_CONCURRENCY} in flight, as in the hub's broadcaster), on the hub's core"
    )
    return [
        judged(
            run.row(
                "fanout",
                "deliveries",
                "/s",
                hub["per_s"],
                baseline=bare["per_s"],
                baseline_kind="bare",
                note=note,
            ),
            Bar(">=", 0.6),
        ),
        judged(
            run.row(
                "fanout",
                "every receiver has it, p50",
                "ms",
                _p(hub, "p50"),
                baseline=_p(bare, "p50"),
                baseline_kind="bare",
            ),
            None,
        ),
        judged(
            run.row(
                "fanout",
                "every receiver has it, p99",
                "ms",
                _p(hub, "p99"),
                baseline=_p(bare, "p99"),
                baseline_kind="bare",
            ),
            None,
        ),
        judged(
            run.row("fanout", "missing deliveries", "", missing + hub["incomplete"]),
            Bar("==", 0, on_ratio=False),
        ),
    ]


def soak_row(run: BackendRun, seconds: float, samples: list[tuple[float, int]]) -> Row:
    """Growth from the first sample after warm-up (a tenth of the soak, at most 30 s) to the last."""
    settle = min(30.0, seconds / 10)
    start = next((kib for at, kib in samples if at >= settle), samples[0][1])
    end = samples[-1][1]
    row = run.row("memory", f"hub RSS over {seconds:g} s soak", "%", round((end - start) / start * 100, 1))
    row.extra = {
        "start_mib": round(start / 1024, 1),
        "end_mib": round(end / 1024, 1),
        "max_mib": round(max(k for _, k in samples) / 1024, 1),
    }
    return judged(row, Bar("<=", 20, on_ratio=False, unit=" %"))


def soak_answers(loads: Sequence[dict[str, Any]]) -> tuple[float | None, int]:
    """The share (%) of the soak's open-loop requests answered, and how many admission control refused."""
    opened = [load for load in loads if load.get("mode") == "rate"]
    completed = sum(int(load["completed"]) for load in opened)
    errors = sum(int(load["errors"]) for load in opened)
    refused = sum(
        count
        for load in opened
        for kind, count in load.get("error_kinds", {}).items()
        if kind.startswith("HTTP 503")
    )
    return (round(completed / (completed + errors) * 100, 1) if completed + errors else None), refused


# --- the whole run -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    rows: list[Row] = field(default_factory=list)
    configs: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    placements: list[dict[str, Any]] = field(default_factory=list)
    failed: bool = False


SCENARIOS = ("authorization", "cdr_ingest", "fanout", "oicp")


async def run_backend(run: BackendRun, soak_seconds: float, scenarios: Sequence[str] = SCENARIOS) -> None:
    await run.set_up()
    await run.warm_up()
    for name in SCENARIOS:
        if name in scenarios:
            await getattr(run, name)()
    run.memory()
    if soak_seconds > 0 and "authorization" in scenarios and "cdr_ingest" in scenarios:
        await run.soak(soak_seconds)


async def _one_config(
    outcome: Outcome, backend: str, workers: int, profile: Profile, cores: Cores, args: argparse.Namespace
) -> None:
    run = BackendRun(backend, workers, profile, cores, keep=args.keep)
    if args.profile_hub is not None:
        run.profile_dir = args.profile_hub.resolve()
        run.profile_dir.mkdir(parents=True, exist_ok=True)
    soak = args.soak_seconds if not outcome.configs else 0.0  # the first backend only: one soak is enough
    config: dict[str, Any] = {
        "backend": backend,
        "workers": workers,
        "status": "ok",
        "workdir": str(run.workdir),
    }
    try:
        await run_backend(run, soak, args.scenarios)
    except (InstrumentError, aiohttp.ClientError, OSError, TimeoutError, KeyError) as exc:
        config |= {"status": "failed", "error": f"{type(exc).__name__}: {exc or 'timed out'}"}
        say(f"[{run.label}] instrument failed: {type(exc).__name__}: {exc or 'timed out'}")
        outcome.failed = True
    finally:
        await run.tear_down()
    outcome.configs.append(config)
    outcome.rows += run.rows
    outcome.details[run.label] = run.details
    outcome.placements += [
        {"config": run.label, **p}
        for p in run.launcher.placements
        if not p["role"].startswith(("load", "cli"))
    ]


def configs_for(backends: Sequence[str]) -> list[tuple[str, int]]:
    chosen = []
    if "sqlite" in backends:
        chosen.append(("sqlite", 1))
    if "postgres" in backends:
        chosen += [("postgres", 1), ("postgres", 2)]
    return chosen


async def run_all(args: argparse.Namespace) -> int:
    profile = replace(QUICK if args.quick else FULL, soak_seconds=args.soak_seconds)
    if args.seconds is not None:
        profile = replace(profile, seconds=args.seconds)
    if args.soak_share is not None:
        profile = replace(profile, soak_share=args.soak_share)
    if args.max_in_flight is not None:
        profile = replace(profile, max_in_flight=args.max_in_flight)
    if args.receivers is not None:
        profile = replace(profile, receivers=max(1, args.receivers))
    if args.cdr_cpos is not None:
        profile = replace(profile, cdr_cpos=max(1, args.cdr_cpos))
    cores = Cores.detect()
    if cores.other is not None:
        os.sched_setaffinity(0, cores.other)
    started = time.time()
    outcome = Outcome()
    skipped = await postgres_unavailable() if "postgres" in args.backends else None
    for backend, workers in configs_for(args.backends):
        if backend == "postgres" and skipped is not None:
            outcome.configs.append(
                {"backend": backend, "workers": workers, "status": "skipped", "reason": skipped}
            )
            continue
        await _one_config(outcome, backend, workers, profile, cores, args)
    print_report(outcome, skipped)
    write_json(args.out, report_document(outcome, profile, cores, started, args))
    say(f"results written to {args.out}")
    return 1 if outcome.failed else 0


def print_report(outcome: Outcome, skipped: str | None) -> None:
    lines = ["", table(outcome.rows), ""]
    lines += [f"note: {note}" for note in [*notes(outcome.rows), *([skipped] if skipped else [])]]
    lines += [
        f"FAILED: {config['backend']}/{config['workers']}: {config['error']}"
        for config in outcome.configs
        if config["status"] == "failed"
    ]
    lines.append(summary(outcome.rows))
    print("\n".join(lines), flush=True)


def report_document(
    outcome: Outcome, profile: Profile, cores: Cores, started: float, args: argparse.Namespace
) -> dict[str, Any]:
    machine = {
        "cpus": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    pinning = {"hub_and_proxy": cores.text(cores.hub), "everything_else": cores.text(cores.other)}
    return document(
        outcome.rows,
        mode=profile.name,
        started_at=started,
        elapsed_s=round(time.time() - started, 1),
        instrument_failed=outcome.failed,
        machine=machine,
        profile=asdict(profile),
        pinning=pinning,
        processes=outcome.placements,
        configs=outcome.configs,
        scenarios=["authorization", "cdr_ingest", "fanout", "oicp_authorize_start", "memory"],
        oicp_authorize_start={
            "available": True,
            "hub_config": {"oicp": {"rate_limits": {OPERATION: UNLIMITED}}},
            "notes": [oicp_report.RATE_LIMIT_NOTE, oicp_report.FLOW_NOTE, oicp_report.BASELINE_NOTE],
        },
        ledger={"wired": False, "note": LEDGER_NOTE},
        details=outcome.details,
    )


# --- command line ------------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--quick", action="store_true", help="a few seconds per scenario (make bench-smoke)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    parser.add_argument(
        "--backends",
        type=lambda text: [b.strip() for b in text.split(",") if b.strip()],
        default=["sqlite", "postgres"],
        help="comma-separated: sqlite, postgres (PostgreSQL runs with 1 and with 2 hub workers)",
    )
    parser.add_argument(
        "--soak-seconds", type=float, help=f"memory soak length (default {FULL.soak_seconds:g}, quick mode 0)"
    )
    parser.add_argument(
        "--soak-share",
        type=float,
        help="each open-loop soak load at this share of its saturation (default 1/6; 0.45 overloads the hub)",
    )
    parser.add_argument(
        "--max-in-flight", type=int, help="the hub workers' max_in_flight (default: the hub's; 0: no limit)"
    )
    parser.add_argument("--seconds", type=float, help="override the measurement window of each figure")
    parser.add_argument("--receivers", type=int, help="fan-out receivers, the eMSP included (50; quick: 10)")
    parser.add_argument(
        "--cdr-cpos", type=int, help="CPOs POSTing CDRs side by side, the bench CPO included (4; quick: 2)"
    )
    parser.add_argument(
        "--scenarios",
        type=lambda text: [b.strip() for b in text.split(",") if b.strip()],
        default=list(SCENARIOS),
        help="comma-separated subset of " + ", ".join(SCENARIOS) + " (all by default; the soak needs the"
        " first two)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories (logs, SQLite)")
    parser.add_argument(
        "--profile-hub",
        type=Path,
        metavar="DIR",
        help="run each hub worker under cProfile, one .prof file per worker in DIR (figures then suffer)",
    )
    return parser


def _normalise(args: argparse.Namespace) -> argparse.Namespace:
    if args.soak_seconds is None:
        args.soak_seconds = QUICK.soak_seconds if args.quick else FULL.soak_seconds
    unknown = set(args.backends) - {"sqlite", "postgres"}
    if unknown:
        raise SystemExit(f"roamhub bench: unknown backend(s) {sorted(unknown)}")
    strange = set(args.scenarios) - set(SCENARIOS)
    if strange:
        raise SystemExit(f"roamhub bench: unknown scenario(s) {sorted(strange)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = configure(
        argparse.ArgumentParser(prog="python -m hub.bench.run", description=__doc__.split("\n\n")[0])
    )
    args = _normalise(parser.parse_args(argv))
    try:
        return asyncio.run(run_all(args))
    except KeyboardInterrupt:
        return 130


def add_parser(subparsers: Any) -> None:
    """``roamhub bench``: hub/cli/main.py calls this from build_parser()."""
    bench = configure(
        subparsers.add_parser("bench", help="benchmark the hub against direct and proxy baselines")
    )
    bench.set_defaults(run=_cmd_bench)


async def _cmd_bench(args: argparse.Namespace, settings: object) -> int:
    return await run_all(_normalise(args))


if __name__ == "__main__":
    sys.exit(main())
