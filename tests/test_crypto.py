import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from hub.config import SecuritySettings, Settings
from hub.crypto import Vault, VaultError, admin_token, hash_token, load_vault, new_token, same_secret


def test_tokens_are_fresh_printable_and_within_ocpi_length() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) <= 64 and all(0x21 <= ord(c) <= 0x7E for c in t) for t in tokens)


def test_hash_is_stable_and_does_not_contain_the_token() -> None:
    token = new_token()
    assert hash_token(token) == hash_token(token)
    assert token not in hash_token(token)
    assert same_secret(token, token) and not same_secret(token, token + "x")


def test_vault_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(security=SecuritySettings(secret_key_file=str(tmp_path / "var" / "secret.key")))
    vault = load_vault(settings)
    key_file = tmp_path / "var" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    secret = vault.encrypt("token-b")
    assert "token-b" not in secret
    assert load_vault(settings).decrypt(secret) == "token-b"


def test_vault_with_another_key_refuses(tmp_path: Path) -> None:
    secret = Vault(Fernet.generate_key()).encrypt("token-b")
    with pytest.raises(VaultError):
        Vault(Fernet.generate_key()).decrypt(secret)


def test_configured_key_wins_over_file(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = Settings(
        security=SecuritySettings(secret_key=SecretStr(key), secret_key_file=str(tmp_path / "k"))
    )
    assert Vault(key.encode()).decrypt(load_vault(settings).encrypt("x")) == "x"
    assert not (tmp_path / "k").exists()


def test_admin_token_from_config_or_generated_file(tmp_path: Path) -> None:
    configured = Settings.model_validate({"admin": {"token": "op"}, "data_dir": str(tmp_path)})
    assert admin_token(configured) == "op"
    generated = Settings(data_dir=str(tmp_path))
    token = admin_token(generated)
    assert len(token) >= 40 and admin_token(generated) == token
    assert (tmp_path / "admin.token").read_text().strip() == token
