"""Configuration: ``config/roamhub.toml`` overridden by ``ROAMHUB_*`` environment variables.

Every key has a default, so the hub runs with no file at all. A top-level key ``port`` is overridden by
``ROAMHUB_PORT``; a key ``url`` in section ``[database]`` by ``ROAMHUB_DATABASE_URL``. Anything unknown or
invalid stops the start with a :class:`ConfigError` that names the key and where it came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from schemas.canonical.party import CountryCode, PartyCode

DEFAULT_CONFIG_FILE = Path("config/roamhub.toml")
ENV_PREFIX = "ROAMHUB_"
# Environment variables with the prefix that are not configuration keys.
_ENV_NOT_SETTINGS = {"ROAMHUB_CONFIG"}
_ENV_NOT_SETTINGS_PREFIXES = ("ROAMHUB_TEST_", "ROAMHUB_BENCH_")


class ConfigError(ValueError):
    """The configuration is unusable; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/roamhub.db"
    pool_size: int = Field(default=10, ge=1, le=200)
    echo: bool = False
    busy_timeout: float = Field(
        default=30.0, gt=0, description="SQLite: seconds to wait for another process's write lock"
    )
    sqlite_on_loop: bool = Field(
        default=True,
        description="SQLite: run statements on the event loop's thread, not one thread hop each (faster)",
    )

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class AdminSettings(_Section):
    token: SecretStr | None = None


class LogSettings(_Section):
    format: Literal["console", "json"] = "console"
    level: Literal["debug", "info", "warning", "error"] = "info"


class OcpiSettings(_Section):
    timeout: float = Field(default=10.0, gt=0, description="seconds before a forwarded request is 4002")
    authorize_timeout: float = Field(default=3.0, gt=0)
    connect_timeout: float = Field(default=3.0, gt=0)
    liveness_interval: float = Field(default=300.0, gt=0, description="seconds of silence before a check")
    credentials_grace_period: float = Field(default=300.0, ge=0)
    accept_raw_tokens: bool = True
    page_limit: int = Field(default=100, ge=1, le=10_000)
    cdr_retry: bool = True
    cache_seconds: float = Field(default=1.0, ge=0, le=60)
    # Calls per minute per platform and functional module (``{"cdrs": 60000}``), beyond which HTTP 429
    # with an OCPI envelope; ``rate_limit`` applies to modules not listed. 0 = unlimited (the default).
    rate_limit: int = Field(default=0, ge=0)
    rate_limits: dict[str, int] = Field(default_factory=dict)
    rate_limit_burst: float = Field(default=1.0, ge=0.0)


# Hubject's Acceptable Use Policy, calls per minute per partner and operation (oicp-hub-notes §7).
AUP_RATE_LIMITS: dict[str, int] = {
    "eRoamingPullEvseStatusByID": 300,
    "eRoamingPullEvseStatusByOperatorID": 75,
    "eRoamingPullEvseStatus": 6,
    "eRoamingPullEvseData": 100,
    "eRoamingPushEvseStatus": 2000,
    "eRoamingPushEvseData": 375,
    "eRoamingAuthorizeStart": 200,
    "eRoamingAuthorizeStop": 50,
    "eRoamingAuthorizeRemoteStart": 100,
    "eRoamingAuthorizeRemoteStop": 200,
    "eRoamingPushAuthenticationData": 50,
    "eRoamingPullAuthenticationData": 6,
    "eRoamingChargeDetailRecord": 350,
    "eRoamingGetChargeDetailRecords": 200,
    "eRoamingChargingNotifications": 100,
    "eRoamingPullEVSEPricing": 280,
    "eRoamingPullPricingProductData": 300,
    "eRoamingPushEVSEPricing": 6,
    "eRoamingPushPricingProductData": 6,
}


class OicpSettings(_Section):
    listen_port: int | None = Field(
        default=None, ge=1, le=65535, description="the mutual-TLS port OICP partners use; off when unset"
    )
    listen_host: str | None = None  # default: host
    timeout: float = Field(default=10.0, gt=0, description="seconds an OICP partner has to answer")
    remote_timeout: float = Field(
        default=60.0, gt=0, description="seconds a CPO has for remote start/stop and reservations"
    )
    authorize_timeout: float = Field(
        default=5.0, gt=0, description="seconds each EMP has to answer a forwarded AuthorizeStart"
    )
    connect_timeout: float = Field(default=5.0, gt=0)
    # Calls per minute per partner and operation; the AUP figures unless overridden. 0 = unlimited.
    rate_limits: dict[str, int] = Field(default_factory=lambda: dict(AUP_RATE_LIMITS))
    rate_limit_burst: float = Field(
        default=1.0, ge=0.0, description="extra burst allowance, as a fraction of the per-minute figure"
    )
    authorization_cache_seconds: float = Field(
        default=3600.0, ge=0, description="how long a UID stays mapped to the EMP that authorised it"
    )
    hotline_phone_number: str = Field(
        default="+4930000000", description="written in EVSE data built from OCPI locations without one"
    )

    @field_validator("rate_limits")
    @classmethod
    def _known_operations(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(AUP_RATE_LIMITS))
        if unknown:
            raise ValueError(f"unknown OICP operations {unknown}; known: {sorted(AUP_RATE_LIMITS)}")
        return {**AUP_RATE_LIMITS, **value}


class LedgerSettings(_Section):
    period: Literal["monthly", "weekly", "daily"] = "monthly"


class SecuritySettings(_Section):
    secret_key: SecretStr | None = None
    secret_key_file: str = "var/secret.key"  # noqa: S105 - a path, not a secret


class Settings(_Section):
    public_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    agreements: Literal["open", "explicit"] = "open"
    data_dir: str = "var"
    name: str = "roamhub"
    country_code: CountryCode = "NL"
    party_id: PartyCode = "HUB"
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    max_in_flight: int = Field(
        default=512,
        ge=0,
        le=1_000_000,
        description="OCPI/OICP requests a worker works on at once; beyond, 503 at once (0: no limit)",
    )
    outbox_poll_interval: float = Field(default=0.5, gt=0, le=60)
    outbox_backoff_base: float = Field(default=1.0, gt=0, le=3600)
    outbox_max_attempts: int = Field(default=15, ge=1, le=1000)
    outbox_lease: float = Field(default=30.0, ge=1, le=3600)
    gc_threshold: int = Field(
        default=20_000,
        ge=0,
        le=10_000_000,
        description="objects allocated between young-generation garbage collections; 0: Python's default",
    )

    database: DatabaseSettings = DatabaseSettings()
    admin: AdminSettings = AdminSettings()
    log: LogSettings = LogSettings()
    ocpi: OcpiSettings = OcpiSettings()
    oicp: OicpSettings = OicpSettings()
    ledger: LedgerSettings = LedgerSettings()
    security: SecuritySettings = SecuritySettings()

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    def url(self, path: str) -> str:
        """An absolute URL partners can use: every URL the hub hands out comes from here."""
        return f"{self.public_url}/{path.lstrip('/')}"


_SECTIONS = {
    name: field.annotation
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, _Section)
}


def _env_names() -> dict[str, tuple[str, ...]]:
    names: dict[str, tuple[str, ...]] = {}
    for name in Settings.model_fields:
        section = _SECTIONS.get(name)
        if section is None:
            names[f"{ENV_PREFIX}{name.upper()}"] = (name,)
            continue
        for key in section.model_fields:
            names[f"{ENV_PREFIX}{name.upper()}_{key.upper()}"] = (name, key)
    return names


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the file (if any), apply the environment, validate; raise ConfigError naming the bad key."""
    environ = os.environ if environ is None else environ
    explicit = path or environ.get("ROAMHUB_CONFIG")
    file = Path(explicit) if explicit else DEFAULT_CONFIG_FILE
    raw: dict[str, Any] = {}
    sources: dict[tuple[str, ...], str] = {}
    if file.exists():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        for key, value in raw.items():
            if isinstance(value, dict):
                for sub in value:
                    sources[(key, sub)] = f"[{key}] {sub} in {file}"
            else:
                sources[(key,)] = f"{key} in {file}"
    elif explicit:
        raise ConfigError(f"configuration file {file} does not exist")
    known = _env_names()
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _ENV_NOT_SETTINGS:
            continue
        if name.startswith(_ENV_NOT_SETTINGS_PREFIXES):
            continue
        loc = known.get(name)
        if loc is None:
            raise ConfigError(f"{name}: unknown setting (known: {', '.join(sorted(known))})")
        target = raw
        for part in loc[:-1]:
            target = target.setdefault(part, {})
        target[loc[-1]] = value
        sources[loc] = name
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(str(part) for part in error["loc"])
            where = sources.get(loc) or sources.get(loc[:1]) or ".".join(loc)
            problems.append(f"{where}: {error['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from exc


def masked(settings: Settings) -> dict[str, Any]:
    """The effective configuration as plain data, secrets shown as ``***`` (or null when unset)."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    data["database"]["url"] = _mask_url(settings.database.url)
    return data


def _mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
