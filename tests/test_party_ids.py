import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.canonical import OperatorId, PartyRef, ProviderId
from schemas.canonical.party import normalise_oicp_id


def test_party_ref_parses_and_normalises_case() -> None:
    ref = PartyRef.parse(" nl-abc ")
    assert (ref.country_code, ref.party_id) == ("NL", "ABC")
    assert str(ref) == "NL-ABC"


@pytest.mark.parametrize("text", ["NLABC", "NLD-ABC", "NL-ABCD", "N1-ABC", "NL-A!C"])
def test_party_ref_rejects_malformed(text: str) -> None:
    with pytest.raises(ValidationError):
        PartyRef.parse(text)


@pytest.mark.parametrize("value", ["DE*ABC", "DEABC", "+49*536", "de*a36"])
def test_operator_ids_in_hubject_format(value: str) -> None:
    assert TypeAdapter(OperatorId).validate_python(value) == value.upper()


@pytest.mark.parametrize("value", ["DE*ABCD", "D*ABC", "DE-ABC", ""])
def test_operator_ids_out_of_format(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(OperatorId).validate_python(value)


@pytest.mark.parametrize("value", ["DE-XYZ", "DEXYZ", "DE*8EO"])
def test_provider_ids_in_hubject_format(value: str) -> None:
    assert TypeAdapter(ProviderId).validate_python(value) == value


@pytest.mark.parametrize("value", ["DE--XYZ", "DE-XY", "DEU-XYZ"])
def test_provider_ids_out_of_format(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(ProviderId).validate_python(value)


def test_oicp_ids_compare_without_separators() -> None:
    assert normalise_oicp_id("de*abc") == normalise_oicp_id("DEABC") == "DEABC"
