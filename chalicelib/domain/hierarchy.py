"""The levels of government on one deployment and who exchanges documents with whom: a body with its parent
(one level up) and its children (one level down), never sideways and never two levels away."""
from __future__ import annotations

LEVELS = ("central", "province", "commune")
LEVEL_NAMES_VI = {"central": "Trung ương", "province": "cấp tỉnh", "commune": "cấp xã"}
PARENT_LEVEL = {"province": "central", "commune": "province"}


def parent_refusal(level: str, parent_level: str) -> str | None:
    """Why a body of `level` may not sit under a parent of `parent_level` (in Vietnamese), or None."""
    wanted = PARENT_LEVEL.get(level)
    if wanted is None:
        return "Cơ quan Trung ương không có cơ quan cấp trên."
    if parent_level != wanted:
        return (f"Cơ quan {LEVEL_NAMES_VI[level]} phải trực thuộc một cơ quan {LEVEL_NAMES_VI[wanted]}, "
                f"không phải {LEVEL_NAMES_VI.get(parent_level, parent_level)}.")
    return None


def relation(sender: dict, recipient: dict) -> str | None:
    """"parent" when the recipient is the sender's parent, "child" when it is one of its children, else None.
    Both are bodies as stored ({"body_id", "parent_id"?})."""
    if sender["body_id"] == recipient["body_id"]:
        return None
    if sender.get("parent_id") and sender["parent_id"] == recipient["body_id"]:
        return "parent"
    if recipient.get("parent_id") and recipient["parent_id"] == sender["body_id"]:
        return "child"
    return None


def route_refusal(sender: dict, recipient: dict) -> str | None:
    """Why the sender may not send to the recipient (in Vietnamese), or None when it may."""
    if relation(sender, recipient) is not None:
        return None
    if sender["body_id"] == recipient["body_id"]:
        return "Không thể gửi văn bản cho chính cơ quan mình."
    return (f"Chỉ được gửi văn bản cho cơ quan cấp trên trực tiếp hoặc cơ quan cấp dưới trực tiếp; "
            f"«{recipient['body_id']}» không phải là cơ quan đó.")
