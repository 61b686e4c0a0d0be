"""A closed, signed poll in the demo body of `make run`, made through the public API as a client would: a
meeting with one item, 25 of the 27 members check in and vote "yes" with their demo keys (.local/demo-keys),
the chair closes the poll. Prints the poll id, whose evidence package docs/EVIDENCE.md verifies by hand.

    .venv/bin/python -m tools.demo_poll [API_URL]      (default http://127.0.0.1:8000)
"""
from __future__ import annotations

import base64
import json
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

BODY = "chinh-phu"
KEYS = Path(__file__).resolve().parent.parent / ".local" / "demo-keys"
CLERK, CHAIR = "vpcp-chuyen-vien", "thu-tuong"
MEMBERS = [CHAIR] + [f"pho-thu-tuong-{n}" for n in range(1, 5)] + [f"bo-truong-{n:02d}" for n in range(1, 23)]
VIETNAM = timezone(timedelta(hours=7))


def call(api: str, method: str, path: str, user: str | None, body: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if user:
        headers["Authorization"] = "Bearer " + call(api, "POST", "/v1/dev/token", None, {"user_id": user})["token"]
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(api + path, data=data, method=method, headers=headers)) as r:
        return json.load(r)


def signature(user: str, poll_id: str, choice: str) -> dict:
    """ES256 over the RFC 8785 text of the six signed fields: the 64-byte r||s, standard base64."""
    signed_at = datetime.now(VIETNAM).isoformat(timespec="seconds")
    payload = rfc8785.dumps({"action": "vote", "body_id": BODY, "target_id": poll_id, "user_id": user,
                             "content": choice, "signed_at": signed_at})
    key = serialization.load_pem_private_key((KEYS / f"{user}.key.pem").read_bytes(), password=None)
    r, s = decode_dss_signature(key.sign(payload, ec.ECDSA(hashes.SHA256())))
    value = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode("ascii")
    return {"alg": "ES256", "value": value, "signed_at": signed_at}


def main(api: str) -> str:
    b = f"/v1/bodies/{BODY}"
    meeting = call(api, "POST", f"{b}/meetings", CLERK, {"title": "Phiên họp thử",
                                                         "starts_at": datetime.now(VIETNAM).isoformat()})["meeting_id"]
    item = call(api, "POST", f"{b}/meetings/{meeting}/items", CLERK, {"title": "Dự thảo Nghị định thử"})["item_id"]
    call(api, "POST", f"{b}/meetings/{meeting}/start", CHAIR, {})
    voters = MEMBERS[:25]
    for user in voters:
        call(api, "PUT", f"{b}/meetings/{meeting}/attendance/{user}", user, {"mode": "in_room"})
    poll = call(api, "POST", f"{b}/meetings/{meeting}/items/{item}/polls", CHAIR,
                {"question": "Tán thành dự thảo Nghị định?"})["poll_id"]
    call(api, "POST", f"{b}/polls/{poll}/open", CHAIR, {})
    for user in voters:
        call(api, "POST", f"{b}/polls/{poll}/votes", user, {"choice": "yes", "signature": signature(user, poll, "yes")})
    call(api, "POST", f"{b}/polls/{poll}/close", CHAIR, {})
    return poll


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
