"""Who exchanges documents with whom: a body with its parent and its children, nothing sideways or two levels."""
import pytest

from chalicelib.domain.hierarchy import parent_refusal, relation, route_refusal

GOV = {"body_id": "chinh-phu", "parent_id": None}
HANOI = {"body_id": "ha-noi", "parent_id": "chinh-phu"}
HUE = {"body_id": "hue", "parent_id": "chinh-phu"}
BA_DINH = {"body_id": "ba-dinh", "parent_id": "ha-noi"}


@pytest.mark.parametrize("level,parent_level", [("province", "central"), ("commune", "province")])
def test_a_body_sits_one_level_below_its_parent(level, parent_level):
    assert parent_refusal(level, parent_level) is None


@pytest.mark.parametrize("level,parent_level", [("commune", "central"), ("province", "province"),
                                                ("central", "central"), ("province", "commune")])
def test_other_parents_are_refused_with_a_reason_in_vietnamese(level, parent_level):
    reason = parent_refusal(level, parent_level)
    assert reason and ("cấp" in reason or "Trung ương" in reason)


def test_a_body_exchanges_with_its_parent_and_its_children():
    assert relation(HANOI, GOV) == "parent" and relation(GOV, HANOI) == "child"
    assert relation(BA_DINH, HANOI) == "parent" and relation(HANOI, BA_DINH) == "child"
    assert route_refusal(HANOI, GOV) is None and route_refusal(GOV, HUE) is None


@pytest.mark.parametrize("sender,recipient", [(HANOI, HUE), (BA_DINH, GOV), (GOV, BA_DINH), (HANOI, HANOI)])
def test_sideways_two_level_and_self_routes_are_refused(sender, recipient):
    assert relation(sender, recipient) is None
    assert route_refusal(sender, recipient)
