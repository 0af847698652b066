from pathlib import Path

import pytest

from hub.config import ConfigError, load_settings, masked

REPO = Path(__file__).resolve().parents[1]


def test_shipped_file_loads_unchanged_and_matches_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_file = load_settings(REPO / "config" / "roamhub.toml", environ={})
    monkeypatch.chdir(tmp_path)
    assert from_file == load_settings(environ={})
    assert from_file.port == 8080
    assert from_file.database.url.startswith("sqlite+aiosqlite:///var/")
    assert from_file.agreements == "open"


def test_defaults_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert (settings.host, settings.port, settings.public_url) == ("127.0.0.1", 8080, "http://127.0.0.1:8080")


def test_environment_overrides_file(tmp_path: Path) -> None:
    file = tmp_path / "hub.toml"
    file.write_text("port = 9000\n[ocpi]\ntimeout = 4.5\n")
    settings = load_settings(
        file,
        environ={
            "ROAMHUB_PORT": "9100",
            "ROAMHUB_DATABASE_URL": "postgresql+asyncpg://u:pw@db/hub",
            "HOME": "/x",
        },
    )
    assert settings.port == 9100
    assert settings.ocpi.timeout == 4.5
    assert settings.database.url == "postgresql+asyncpg://u:pw@db/hub"


def test_public_url_is_the_base_of_every_url() -> None:
    settings = load_settings(environ={"ROAMHUB_PUBLIC_URL": "https://hub.example.com/roaming/"})
    assert settings.url("/ocpi/versions") == "https://hub.example.com/roaming/ocpi/versions"


def test_unknown_environment_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ROAMHUB_PROT: unknown setting"):
        load_settings(environ={"ROAMHUB_PROT": "1"})


def test_bad_value_names_the_key_and_its_source(tmp_path: Path) -> None:
    file = tmp_path / "hub.toml"
    file.write_text('agreements = "closed"\n[ocpi]\ntimeout = -1\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(file, environ={})
    message = str(caught.value)
    assert f"agreements in {file}" in message
    assert f"[ocpi] timeout in {file}" in message
    with pytest.raises(ConfigError, match="ROAMHUB_PORT"):
        load_settings(environ={"ROAMHUB_PORT": "eighty"})


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    file = tmp_path / "hub.toml"
    file.write_text("[database]\nurll = 'x'\n")
    with pytest.raises(ConfigError, match=r"\[database\] urll"):
        load_settings(file, environ={})


def test_missing_explicit_file_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("port = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, environ={})


def test_masked_view_hides_every_secret() -> None:
    settings = load_settings(
        environ={
            "ROAMHUB_DATABASE_URL": "postgresql+asyncpg://hub:s3cret@db:5432/hub",
            "ROAMHUB_ADMIN_TOKEN": "op-token-123",
            "ROAMHUB_SECURITY_SECRET_KEY": "k" * 44,
        }
    )
    text = repr(masked(settings))
    for secret in ("s3cret", "op-token-123", "k" * 44):
        assert secret not in text
    assert masked(settings)["database"]["url"] == "postgresql+asyncpg://hub:***@db:5432/hub"
