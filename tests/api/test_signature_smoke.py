"""A registered development certificate verifies a signed action through the shared verifier."""
from chalicelib.adapters import store
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services import bodies, signatures
from tests.support import certify, sign


def test_registered_certificate_verifies_and_wrong_target_is_refused(api, body):
    key = certify(body, "m1")
    member = store.plain(store.get(*bodies.member_key(body, "m1")).data)
    sig = sign(key, action="vote", body_id=body, target_id="poll_x", user_id="m1", content="yes")
    record = signatures.verify(member, signature=sig, action="vote", body_id=body, target_id="poll_x",
                               user_id="m1", content="yes")
    assert record["cert_fingerprint"] == member["certificate"]["fingerprint"]
    try:
        signatures.verify(member, signature=sig, action="vote", body_id=body, target_id="poll_y", user_id="m1",
                          content="yes")
    except ValidationFailed as exc:
        assert exc.detail
    else:
        raise AssertionError("a signature for another poll was accepted")
