"""The partner CA, client certificates and mutual TLS, on SQLite and PostgreSQL, over real loopback TLS."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
import stat
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from hub import parties
from hub.cli import main as cli_main
from hub.config import Settings
from hub.errors import Conflict, Forbidden, InvalidParameters, NotAuthenticated, NotFound
from hub.pki import (
    CaMissing,
    IssuedFiles,
    OicpCaller,
    PkiPaths,
    certs,
    check_owns,
    client_ssl_context,
    init_ca,
    issue_party_cert,
    list_certificates,
    partner_for_peer_cert,
    peer_certificate_der,
    revoke,
    server_ssl_context,
)
from hub.pki import cli as pki_cli
from hub.pki.files import write_private, write_public
from hub.store.db import Database
from hub.store.types import utcnow
from schemas.canonical.party import Role

WHOAMI = "/api/oicp/whoami"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def party_files(directory: Path) -> list[Path]:
    return list(directory.glob("party-*"))


def der_of(path: Path) -> bytes:
    return certs.cert_der(load_cert(path))


async def admit(db: Database, settings: Settings, protocol: str = "oicp", **changes: object) -> int:
    data: dict[str, object] = {
        "name": "Ladepunkt GmbH",
        "country_code": "DE",
        "party_id": "ABC",
        "roles": ["CPO", "EMSP"],
        "protocol": protocol,
    }
    if protocol == "oicp":
        data |= {"operator_id": "DE*ABC", "provider_id": "DE-XYZ"}
    data.update(changes)
    view = await parties.add_party(db, settings, parties.PartyCreate.model_validate(data))
    return view.id


@pytest.fixture
async def issued(db: Database, settings: Settings, tmp_path: Path) -> IssuedFiles:
    await init_ca(settings)
    party = await admit(db, settings)
    return await issue_party_cert(db, settings, party, tmp_path / "out")


# --- files and certificates ------------------------------------------------------------------------


async def test_init_writes_keys_0600_and_refuses_a_second_init(settings: Settings) -> None:
    paths = await init_ca(settings)
    assert paths == PkiPaths(Path(settings.data_dir) / "pki")
    for key in (paths.ca_key, paths.server_key, paths.hub_client_key):
        assert mode(key) == 0o600, key
    assert mode(paths.directory) & 0o077 == 0
    first = paths.ca_cert.read_bytes()

    with pytest.raises(Conflict, match=r"already exists.*--force"):
        await init_ca(settings)
    assert paths.ca_cert.read_bytes() == first

    await init_ca(settings, force=True)
    assert paths.ca_cert.read_bytes() != first
    assert mode(paths.ca_key) == 0o600
    assert not [p for p in paths.directory.iterdir() if p.name.endswith(".tmp")]


async def test_ca_and_server_certificate_extensions(settings: Settings) -> None:
    paths = await init_ca(settings)
    ca, server = load_cert(paths.ca_cert), load_cert(paths.server_cert)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= timedelta(days=3650)

    server.verify_directly_issued_by(ca)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["hub.test", "localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


async def test_issued_client_cert_chains_to_the_ca_and_is_recorded(
    issued: IssuedFiles, settings: Settings, db: Database
) -> None:
    ca, cert = load_cert(PkiPaths.of(settings).ca_cert), load_cert(issued.cert)
    cert.verify_directly_issued_by(ca)
    assert issued.ca.read_bytes() == PkiPaths.of(settings).ca_cert.read_bytes()
    assert mode(issued.key) == 0o600
    assert issued.key.name == f"party-{issued.certificate.party_fk}.key"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        f"urn:roamhub:party:{issued.certificate.party_fk}"
    ]
    assert cert.subject.rfc4514_string() == "O=Ladepunkt GmbH,CN=DE*ABC"
    assert 0 < cert.serial_number < 2**128

    [row] = await list_certificates(db)
    assert row == issued.certificate
    assert row.serial == format(cert.serial_number, "x")
    assert row.fingerprint == certs.fingerprint(der_of(issued.cert))
    assert row.status == "valid"


async def test_issue_refuses_unknown_and_ocpi_parties_and_a_missing_ca(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    ocpi = await admit(db, settings, protocol="ocpi", country_code="NL", party_id="OCP", roles=["CPO"])
    with pytest.raises(CaMissing, match="pki init"):
        await issue_party_cert(db, settings, ocpi, tmp_path)
    await init_ca(settings)
    with pytest.raises(NotFound, match="no party with id 999"):
        await issue_party_cert(db, settings, 999, tmp_path)
    with pytest.raises(InvalidParameters, match=f"party {ocpi} .*speaks ocpi"):
        await issue_party_cert(db, settings, ocpi, tmp_path)
    assert await list_certificates(db) == []
    assert party_files(tmp_path) == []


async def test_issue_does_not_overwrite_a_key(issued: IssuedFiles, db: Database, settings: Settings) -> None:
    before = issued.key.read_bytes()
    with pytest.raises(Conflict, match="already exists"):
        await issue_party_cert(db, settings, issued.certificate.party_fk, issued.key.parent)
    assert issued.key.read_bytes() == before
    assert len(await list_certificates(db)) == 1


def test_write_private_never_widens_and_replaces_atomically(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    write_private(key, b"one")
    with pytest.raises(FileExistsError):
        write_private(key, b"two")
    write_private(key, b"two", replace=True)
    assert key.read_bytes() == b"two" and mode(key) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["k.key"]


# --- who is calling --------------------------------------------------------------------------------


def test_check_owns_compares_normalised_ids() -> None:
    caller = OicpCaller(1, "P", "CONNECTED", frozenset({"DEABC"}), frozenset({"DEXYZ"}))
    check_owns(caller, "DE*ABC", "OperatorID")
    check_owns(caller, "deabc", "operatorID")
    check_owns(caller, "DE-XYZ", "ProviderID")
    with pytest.raises(Forbidden) as info:
        check_owns(caller, "DE*XYZ", "OperatorID")  # DEXYZ is its ProviderID, not an OperatorID
    assert info.value.oicp_code == "017" and info.value.field == "OperatorID"
    with pytest.raises(Forbidden):
        check_owns(caller, "DE*ABD", "EvseID")
    check_owns(caller, "DE*XYZ", "EvseID")  # a field of no particular role: any of the caller's ids


async def test_partner_for_peer_cert_maps_ids_and_refuses_revoked_expired_suspended(
    issued: IssuedFiles, db: Database, settings: Settings
) -> None:
    der = der_of(issued.cert)
    caller = await partner_for_peer_cert(db, der)
    assert (caller.party_fk, caller.name, caller.status) == (
        issued.certificate.party_fk,
        "Ladepunkt GmbH",
        "PLANNED",
    )
    assert caller.operator_ids == {"DEABC"} and caller.provider_ids == {"DEXYZ"}
    assert caller.owns("DE*ABC", Role.CPO) and not caller.owns("DE*ABC", Role.EMSP)

    with pytest.raises(NotAuthenticated, match="expired"):
        await partner_for_peer_cert(db, der, now=issued.certificate.not_after)
    with pytest.raises(NotAuthenticated, match="not issued by this hub") as info:
        await partner_for_peer_cert(db, der_of(PkiPaths.of(settings).hub_client_cert))
    assert info.value.oicp_code == "017"
    with pytest.raises(NotAuthenticated, match="required"):
        await partner_for_peer_cert(db, None)

    await parties.suspend_party(db, settings, caller.party_fk)
    with pytest.raises(NotAuthenticated, match="locked"):
        await partner_for_peer_cert(db, der)


async def test_revoke_by_serial_fingerprint_or_party(
    issued: IssuedFiles, db: Database, settings: Settings
) -> None:
    party = issued.certificate.party_fk
    second = await issue_party_cert(db, settings, party, issued.key.parent / "second")
    serial = ":".join(f"{int(issued.certificate.serial, 16):040X}"[i : i + 2] for i in range(0, 40, 2))
    [one] = await revoke(db, serial=serial)
    assert one.id == issued.certificate.id and one.status == "revoked"
    with pytest.raises(NotAuthenticated, match="revoked"):
        await partner_for_peer_cert(db, der_of(issued.cert))
    assert (await partner_for_peer_cert(db, der_of(second.cert))).party_fk == party

    both = await revoke(db, party_id=party)
    assert both[0].revoked_at == one.revoked_at  # the first revocation time is kept
    assert {v.status for v in both} == {"revoked"}
    [again] = await revoke(db, fingerprint=second.certificate.fingerprint.upper())
    assert again.id == second.certificate.id
    with pytest.raises(NotFound):
        await revoke(db, serial="abcdef")
    with pytest.raises(InvalidParameters, match="hexadecimal"):
        await revoke(db, serial="xyz")
    with pytest.raises(InvalidParameters, match="exactly one"):
        await revoke(db)


# --- mutual TLS on loopback ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def oicp_listener(settings: Settings, db: Database) -> AsyncIterator[int]:
    """A TLS site as the hub would run it: the handler names the caller's OperatorIDs, or answers 017."""

    async def whoami(request: web.Request) -> web.Response:
        try:
            caller = await partner_for_peer_cert(db, peer_certificate_der(request))
        except NotAuthenticated as exc:
            body = {"StatusCode": {"Code": exc.oicp_code, "Description": exc.message}}
            return web.json_response(body, status=exc.oicp_http_status)
        return web.json_response({"OperatorIDs": sorted(caller.operator_ids)})

    app = web.Application()
    app.router.add_post(WHOAMI, whoami)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl_context(settings))
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


def partner_context(settings: Settings, cert: Path | None, key: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(PkiPaths.of(settings).ca_cert))
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


async def call(port: int, context: ssl.SSLContext) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"https://127.0.0.1:{port}{WHOAMI}", ssl=context) as r,
    ):
        return r.status, await r.json()


async def test_mutual_tls_maps_the_certificate_to_the_partner_until_revoked(
    issued: IssuedFiles, db: Database, settings: Settings
) -> None:
    context = partner_context(settings, issued.cert, issued.key)
    async with oicp_listener(settings, db) as port:
        assert await call(port, context) == (200, {"OperatorIDs": ["DEABC"]})
        async with aiohttp.ClientSession() as http:
            url = f"https://127.0.0.1:{port}{WHOAMI}"
            async with http.post(url, ssl=context) as response:
                assert response.status == 200
            await revoke(db, serial=issued.certificate.serial)
            # The same kept-alive TLS connection: revocation applies to its very next request.
            async with http.post(url, ssl=context) as response:
                assert response.status == 401
                assert (await response.json())["StatusCode"]["Code"] == "017"


async def test_hub_client_context_chains_but_is_not_a_partner(
    issued: IssuedFiles, db: Database, settings: Settings
) -> None:
    context = client_ssl_context(settings, str(PkiPaths.of(settings).ca_cert))
    assert context is client_ssl_context(settings, str(PkiPaths.of(settings).ca_cert))  # cached
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    async with oicp_listener(settings, db) as port:
        status, body = await call(port, context)
    assert status == 401 and body["StatusCode"] == {
        "Code": "017",
        "Description": "the client certificate was not issued by this hub",
    }


async def test_handshake_fails_without_a_cert_or_with_another_cas_cert(
    issued: IssuedFiles, db: Database, settings: Settings, tmp_path: Path
) -> None:
    other = certs.build_ca("elsewhere", utcnow())
    key = certs.new_key()
    foreign = certs.build_client_cert(
        other, key, common_name="DE*ABC", organisation="Ladepunkt GmbH", uri="urn:x", now=utcnow()
    )
    write_private(tmp_path / "foreign.key", certs.key_pem(key))
    write_public(tmp_path / "foreign.crt", certs.cert_pem(foreign))
    server_as_client = PkiPaths.of(settings)  # chains to our CA, but serverAuth only
    async with oicp_listener(settings, db) as port:
        for cert, key_file in (
            (None, None),
            (tmp_path / "foreign.crt", tmp_path / "foreign.key"),
            (server_as_client.server_cert, server_as_client.server_key),
        ):
            with pytest.raises(aiohttp.ClientError):
                await call(port, partner_context(settings, cert, key_file))
        assert await call(port, partner_context(settings, issued.cert, issued.key)) == (
            200,
            {"OperatorIDs": ["DEABC"]},
        )


def allow_tls11(context: ssl.SSLContext, *, only: bool = False) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        if only:
            context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS < 1.2 at the default level


def tls11_context(settings: Settings, issued: IssuedFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    allow_tls11(context, only=True)
    context.load_verify_locations(str(PkiPaths.of(settings).ca_cert))
    context.load_cert_chain(str(issued.cert), str(issued.key))
    return context


async def test_tls_1_1_client_is_refused(issued: IssuedFiles, db: Database, settings: Settings) -> None:
    if not ssl.HAS_TLSv1_1:
        pytest.skip("this Python's OpenSSL was built without TLS 1.1: no such client can be made")
    try:
        context = tls11_context(settings, issued)
    except ssl.SSLError as exc:
        pytest.skip(f"the local OpenSSL will not build a TLS 1.1 client: {exc}")
    # Control: the same client completes a handshake with a server that allows TLS 1.1, so the refusal
    # below is our listener's doing, not a client that cannot speak TLS 1.1 at all.
    relaxed = server_ssl_context(settings)
    allow_tls11(relaxed)
    control = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0, ssl=relaxed)
    try:
        _, writer = await asyncio.open_connection(
            "127.0.0.1", control.sockets[0].getsockname()[1], ssl=context
        )
        assert writer.get_extra_info("ssl_object").version() == "TLSv1.1"
        writer.close()
    except OSError as exc:
        pytest.skip(f"the local OpenSSL cannot complete a TLS 1.1 handshake at all: {exc!r}")
    finally:
        control.close()
        await control.wait_closed()
    async with oicp_listener(settings, db) as port:
        with pytest.raises(OSError):  # ssl.SSLError (protocol version alert) or a reset
            await asyncio.open_connection("127.0.0.1", port, ssl=context)


# --- command line ----------------------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROAMHUB_DATABASE_URL", db_url)
    monkeypatch.setenv("ROAMHUB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ROAMHUB_PUBLIC_URL", "https://hub.example.net")
    original = cli_main.build_parser

    def with_pki() -> argparse.ArgumentParser:
        # Until the lead wires ``pki`` into hub/cli/main.py; harmless once it is there.
        parser = original()
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "pki" not in commands.choices:
            pki_cli.add_parser(commands)
        return parser

    monkeypatch.setattr(cli_main, "build_parser", with_pki)
    return tmp_path


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(cli_main.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_cli_exits_2_with_a_clear_message_on_bad_input(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await run(capsys, "pki", "issue", "1", "--out", "out")
    assert code == 2 and "run 'roamhub pki init' first" in err

    assert (await run(capsys, "pki", "init"))[0] == 0
    code, _, err = await run(capsys, "pki", "init")
    assert code == 2 and "already exists" in err and "--force" in err

    code, _, err = await run(capsys, "pki", "issue", "7", "--out", "out")
    assert (code, err) == (2, "roamhub: error: no party with id 7\n")
    add = [
        "party",
        "add",
        "--name",
        "Op",
        "--country",
        "NL",
        "--party-id",
        "OPC",
        "--role",
        "CPO",
        "--protocol",
    ]
    assert (await run(capsys, *add, "ocpi"))[0] == 0
    code, _, err = await run(capsys, "pki", "issue", "1", "--out", "out")
    assert code == 2 and "party 1 (Op) speaks ocpi" in err
    code, _, err = await run(capsys, "pki", "issue", "one", "--out", "out")
    assert code == 2 and "neither a party id nor 'hub'" in err
    code, _, err = await run(capsys, "pki", "revoke", "--serial", "abc")
    assert code == 2 and "no certificate with serial abc" in err


async def test_cli_issue_list_revoke(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (await run(capsys, "pki", "init", "--json"))[0] == 0
    add = ["party", "add", "--name", "Op", "--country", "DE", "--party-id", "OPC", "--role", "CPO"]
    assert (await run(capsys, *add, "--protocol", "oicp"))[0] == 0
    code, out, _ = await run(capsys, "pki", "issue", "1", "--out", "out", "--days", "30")
    assert code == 0 and "party-1.key" in out
    assert mode(env / "out" / "party-1.key") == 0o600
    assert "PRIVATE KEY" not in out
    code, out, _ = await run(capsys, "pki", "list")
    assert code == 0 and "CN=DE*OPC" in out and "valid" in out
    assert (await run(capsys, "pki", "revoke", "--party", "1"))[0] == 0
    code, out, _ = await run(capsys, "pki", "list", "--json")
    assert code == 0 and '"status": "revoked"' in out
    code, _, _ = await run(capsys, "pki", "issue", "hub")
    assert code == 0 and mode(env / "var" / "pki" / "hub-client.key") == 0o600
