"""Pure parts of the hub's object store: exact JSON and the receiver-side merges of §6.1."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.ocpi.hubstore import UnknownObject, dump_exact, load_exact, merge_location

LOCATION = {
    "id": "LOC1",
    "last_updated": "2020-01-01T00:00:00Z",
    "evses": [
        {
            "uid": "E1",
            "status": "AVAILABLE",
            "last_updated": "2020-01-01T00:00:00Z",
            "connectors": [{"id": "1", "max_amperage": 16, "last_updated": "2020-01-01T00:00:00Z"}],
        }
    ],
}


def test_numbers_keep_their_written_form() -> None:
    text = '{"price":2.50,"vat":21.0,"n":3,"tiny":0.0001,"s":"\\u00e9","list":[1.10,null,true]}'
    assert (
        dump_exact(load_exact(text))
        == '{"price":2.50,"vat":21.0,"n":3,"tiny":0.0001,"s":"é","list":[1.10,null,true]}'
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False, places=4),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_dump_then_load_is_exact(value: object) -> None:
    assert load_exact(dump_exact(value)) == value


def test_evse_patch_merges_and_bumps_the_location() -> None:
    merged = merge_location(
        LOCATION,
        {"status": "CHARGING", "last_updated": "2021-01-01T00:00:00Z"},
        evse_uid="e1",
        connector_id=None,
        patch=True,
    )
    assert merged["evses"][0]["status"] == "CHARGING"
    assert merged["evses"][0]["connectors"] == LOCATION["evses"][0]["connectors"]
    assert merged["last_updated"] == "2021-01-01T00:00:00Z"
    assert LOCATION["evses"][0]["status"] == "AVAILABLE"  # the input is not mutated


def test_connector_put_replaces_in_place_and_bumps_both_parents() -> None:
    connector = {"id": "1", "max_amperage": 32, "last_updated": "2022-01-01T00:00:00Z"}
    merged = merge_location(LOCATION, connector, evse_uid="E1", connector_id="1", patch=False)
    assert merged["evses"][0]["connectors"] == [connector]
    assert merged["evses"][0]["last_updated"] == merged["last_updated"] == "2022-01-01T00:00:00Z"


def test_new_evse_is_appended_and_old_changes_never_move_dates_backwards() -> None:
    evse = {"uid": "E2", "status": "PLANNED", "connectors": [], "last_updated": "2019-01-01T00:00:00Z"}
    merged = merge_location(LOCATION, evse, evse_uid="E2", connector_id=None, patch=False)
    assert [e["uid"] for e in merged["evses"]] == ["E1", "E2"]
    assert merged["last_updated"] == "2020-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("evse", "connector"),
    [("E9", None), ("E1", "9")],
)
def test_patching_something_unknown_says_put_it_first(evse: str, connector: str | None) -> None:
    with pytest.raises(UnknownObject, match="PUT it first"):
        merge_location(
            LOCATION,
            {"last_updated": "2021-01-01T00:00:00Z"},
            evse_uid=evse,
            connector_id=connector,
            patch=True,
        )
    with pytest.raises(UnknownObject):
        merge_location(None, {}, evse_uid=None, connector_id=None, patch=True)


def test_decimal_values_survive_a_merge() -> None:
    stored = load_exact('{"id":"L","last_updated":"2020-01-01T00:00:00Z","x":2.50}')
    merged = merge_location(
        stored,
        {"name": "n", "last_updated": "2020-01-02T00:00:00Z"},
        evse_uid=None,
        connector_id=None,
        patch=True,
    )
    assert isinstance(merged["x"], Decimal)
    assert '"x":2.50' in dump_exact(merged)
