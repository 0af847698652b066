"""OCPI 2.2.1 Tokens ⇄ canonical, and the whitelist rules for answering an OICP AuthorizeStart."""

from __future__ import annotations

import pytest

from adapters.ocpi.tokens import (
    authorization_allowed,
    authorize_body,
    to_token,
    usable_when_emsp_offline,
    whitelisted_valid,
)
from schemas.canonical.token import TokenRef, TokenType
from schemas.ocpi.v2_2_1.tokens import AllowedType, LocationReferences, Token
from tests.adapters import ocpi_example


def test_spec_app_user_token() -> None:
    token = to_token(ocpi_example("token_example_1_app_user.json"))
    assert token == TokenRef(
        uid="bdf21bce-fc97-11e8-8eb2-f2801f1b9fd1", type=TokenType.APP_USER, contract_id="DE8ACC12E46L89"
    )
    assert token.ocpi_query_type == "APP_USER"


def test_spec_rfid_token_parsed_or_not() -> None:
    raw = ocpi_example("token_example_2_full_rfid.json")
    expected = TokenRef(uid="12345678905880", type=TokenType.RFID, contract_id="DE8ACC12E46L89")
    assert to_token(raw) == expected
    assert to_token(Token.model_validate(raw)) == expected


def test_a_token_type_unknown_to_2_2_1_is_other() -> None:
    raw = ocpi_example("token_example_2_full_rfid.json") | {"type": "EMAID"}
    assert to_token(raw).type is TokenType.OTHER


def test_an_invalid_token_object_is_refused() -> None:
    raw = ocpi_example("token_example_2_full_rfid.json")
    del raw["uid"]
    with pytest.raises(ValueError, match="uid"):
        to_token(raw)


def test_index_key_ignores_case() -> None:
    assert TokenRef(uid="abc", type=TokenType.RFID).index_key == ("ABC", "RFID")


@pytest.mark.parametrize("allowed", list(AllowedType))
def test_only_allowed_is_a_yes(allowed: AllowedType) -> None:
    info = {"allowed": allowed.value, "token": ocpi_example("token_example_2_full_rfid.json")}
    assert authorization_allowed(info) is (allowed is AllowedType.ALLOWED)


def test_a_malformed_answer_is_a_no() -> None:
    assert authorization_allowed({}) is False
    assert authorization_allowed({"allowed": "allowed"}) is False


@pytest.mark.parametrize(
    ("whitelist", "valid", "from_store", "when_offline"),
    [
        ("ALWAYS", True, True, True),
        ("ALLOWED", True, False, True),
        ("ALLOWED_OFFLINE", True, False, True),
        ("NEVER", True, False, False),
        ("ALWAYS", False, False, False),
        ("ALLOWED_OFFLINE", False, False, False),
    ],
)
def test_whitelist_rules(whitelist: str, valid: bool, from_store: bool, when_offline: bool) -> None:
    raw = ocpi_example("token_example_2_full_rfid.json") | {"whitelist": whitelist, "valid": valid}
    assert whitelisted_valid(raw) is from_store
    assert usable_when_emsp_offline(raw) is when_offline
    assert whitelisted_valid(Token.model_validate(raw)) is from_store


def test_authorize_body() -> None:
    assert authorize_body(None) is None
    assert authorize_body("LOC1") == {"location_id": "LOC1"}
    body = authorize_body("LOC1", ["3256", "3257"])
    assert body == {"location_id": "LOC1", "evse_uids": ["3256", "3257"]}
    LocationReferences.model_validate(body)
