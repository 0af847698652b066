"""The roamhub command line against the configured database, on SQLite and PostgreSQL."""

import asyncio
import json
from pathlib import Path

import pytest

from hub.cli.main import main


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> Path:
    monkeypatch.chdir(tmp_path)  # no config/roamhub.toml here: built-in defaults plus the environment
    monkeypatch.setenv("ROAMHUB_DATABASE_URL", db_url)
    monkeypatch.setenv("ROAMHUB_PUBLIC_URL", "https://hub.example.net")
    return tmp_path


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_party_add_json_prints_id_token_and_versions_url(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await run(
        capsys,
        "party",
        "add",
        "--name",
        "Example CPO",
        "--country",
        "NL",
        "--party-id",
        "EXA",
        "--role",
        "CPO",
        "--role",
        "emsp",
        "--protocol",
        "ocpi",
        "--json",
    )
    assert code == 0
    party = json.loads(out)
    assert isinstance(party["id"], int)
    assert len(party["token_a"]) >= 40
    assert party["versions_url"] == "https://hub.example.net/ocpi/versions"
    assert [r["role"] for r in party["roles"]] == ["CPO", "EMSP"]

    code, out, _ = await run(capsys, "party", "list", "--json")
    listed = json.loads(out)
    assert [p["id"] for p in listed] == [party["id"]] and listed[0]["token_a"] is None
    code, out, _ = await run(capsys, "party", "show", str(party["id"]))
    assert code == 0 and "NL-EXA CPO, NL-EXA EMSP" in out and party["token_a"] not in out
    code, out, _ = await run(capsys, "party", "suspend", str(party["id"]))
    assert code == 0 and "SUSPENDED" in out


async def test_party_add_human_output_shows_token_once(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(
        capsys,
        "party",
        "add",
        "--name",
        "E",
        "--country",
        "nl",
        "--party-id",
        "exa",
        "--role",
        "CPO",
        "--protocol",
        "OCPI",
    )
    assert code == 0
    assert "token A:" in out and "versions URL: https://hub.example.net/ocpi/versions" in out


async def test_oicp_party(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(
        capsys,
        "party",
        "add",
        "--name",
        "Hubject CPO",
        "--country",
        "DE",
        "--party-id",
        "ABC",
        "--role",
        "CPO",
        "--protocol",
        "oicp",
        "--base-url",
        "https://cpo.example.de",
        "--json",
    )
    assert code == 0
    party = json.loads(out)
    assert party["roles"][0]["oicp_id"] == "DE*ABC" and party["base_url"] == "https://cpo.example.de"
    assert party["token_a"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "NLD"], "--country: "),
        (["--party-id", "EX"], "--party-id: "),
        (["--role", "PILOT"], "--role.1: "),
        (["--protocol", "oicp", "--operator-id", "D*ABC"], "--operator-id: "),
        (["--base-url", "https://x"], "--base-url: only OICP parties"),
    ],
)
async def test_bad_input_exits_2_naming_the_flag_and_writes_nothing(
    env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    base = {"--name": "E", "--country": "NL", "--party-id": "EXA", "--role": "CPO", "--protocol": "ocpi"}
    argv = ["party", "add"]
    given = dict(zip(args[::2], args[1::2], strict=True))
    for flag, value in base.items():
        if flag not in given or flag == "--role":
            argv += [flag, value]
    argv += args
    code, _, err = await run(capsys, *argv)
    assert code == 2
    assert message in err
    code, out, _ = await run(capsys, "party", "list", "--json")
    assert json.loads(out) == []


async def test_usage_errors_exit_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        await asyncio.to_thread(main, ["party", "add", "--name", "x"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        await asyncio.to_thread(
            main,
            [
                "party",
                "add",
                "--name",
                "x",
                "--country",
                "NL",
                "--party-id",
                "ABC",
                "--role",
                "CPO",
                "--protocol",
                "ocpp",
            ],
        )
    assert caught.value.code == 2


async def test_duplicate_party_exits_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "party",
        "add",
        "--name",
        "E",
        "--country",
        "NL",
        "--party-id",
        "EXA",
        "--role",
        "CPO",
        "--protocol",
        "ocpi",
    ]
    assert (await run(capsys, *argv))[0] == 0
    code, _, err = await run(capsys, *argv)
    assert code == 2 and "--role: NL-EXA is already admitted as CPO" in err


async def test_unknown_party_exits_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await run(capsys, "party", "show", "42")
    assert code == 2 and "no party with id 42" in err


async def test_agreements(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for pid, role in (("CPA", "CPO"), ("EMA", "EMSP")):
        await run(
            capsys,
            "party",
            "add",
            "--name",
            pid,
            "--country",
            "NL",
            "--party-id",
            pid,
            "--role",
            role,
            "--protocol",
            "ocpi",
        )
    code, out, _ = await run(capsys, "agreement", "add", "--cpo", "NL-CPA", "--emsp", "NL-EMA", "--json")
    assert code == 0 and json.loads(out)["emsp"] == "NL-EMA"
    code, _, err = await run(capsys, "agreement", "add", "--cpo", "NL-CPA", "--emsp", "NLEMA")
    assert code == 2 and "--emsp" in err
    code, out, _ = await run(capsys, "agreement", "list", "--json")
    assert json.loads(out)["policy"] == "open" and len(json.loads(out)["agreements"]) == 1
    code, out, _ = await run(capsys, "agreement", "remove", "--cpo", "NL-CPA", "--emsp", "NL-EMA")
    assert code == 0 and "Removed" in out
    code, _, err = await run(capsys, "agreement", "remove", "1")
    assert code == 2 and "no agreement" in err


async def test_config_show_masks_secrets(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROAMHUB_ADMIN_TOKEN", "super-secret-operator")
    code, out, _ = await run(capsys, "config", "show", "--json")
    assert code == 0
    assert "super-secret-operator" not in out
    assert json.loads(out)["public_url"] == "https://hub.example.net"


async def test_bad_configuration_exits_2_naming_the_key(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROAMHUB_AGREEMENTS", "sometimes")
    code, _, err = await run(capsys, "config", "show")
    assert code == 2 and "ROAMHUB_AGREEMENTS" in err


async def test_db_upgrade(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(capsys, "db", "upgrade")
    assert code == 0 and "database at revision" in out


async def test_party_add_oicp_with_service_urls_and_partner_ca(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ("party", "add", "--name", "Ladepunkt", "--country", "DE", "--party-id", "LPK", "--role", "CPO")
    pem = env / "partner-ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    code, out, _ = await run(
        capsys,
        *base,
        "--protocol",
        "oicp",
        "--base-url",
        "https://cpo.example.net",
        "--service",
        "charging=https://remote.example.net/",
        "--service",
        "reservation=none",
        "--partner-ca",
        str(pem),
        "--json",
    )
    assert code == 0, out
    party = json.loads(out)
    assert party["oicp_services"] == {"charging": "https://remote.example.net", "reservation": None}
    assert party["roles"][0]["oicp_id"] == "DE*LPK"
    code, _, err = await run(capsys, *base, "--protocol", "oicp", "--service", "parking=https://x", "--json")
    assert code == 2 and "--service" in err and "parking" in err
    code, _, err = await run(capsys, *base, "--protocol", "ocpi", "--service", "charging=https://x")
    assert code == 2 and "--service" in err
