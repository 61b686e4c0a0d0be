"""What `make run` shows a person: the stand-in's known notices are dropped at their source, anything else it
says still shows, and the start-up banner names the URLs and who to sign in as."""
import logging
import warnings

from tools import run_local, standin


def test_the_known_queue_policy_notice_is_dropped_and_notices_about_other_resources_still_show(caplog):
    standin.quiet_known_notices()
    moto = logging.getLogger("moto")
    with caplog.at_level(logging.WARNING, logger="moto"):
        moto.warning("No Moto CloudFormation support for %s", "AWS::SQS::QueuePolicy")
        moto.warning("No Moto CloudFormation support for %s", "AWS::Example::Unknown")
    assert [r.getMessage() for r in caplog.records] == ["No Moto CloudFormation support for AWS::Example::Unknown"]


def test_the_known_queue_policy_warning_is_filtered_and_others_are_not():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        standin.quiet_known_notices()
        for kind in ("AWS::SQS::QueuePolicy", "AWS::Example::Unknown"):
            warnings.warn(f"Tried to parse {kind} but it's not supported by moto's CloudFormation implementation",
                          UserWarning)
    assert [str(w.message).split()[3] for w in caught] == ["AWS::Example::Unknown"]


def test_the_banner_names_the_urls_and_one_demo_user_of_each_kind():
    text = run_local.banner("http://127.0.0.1:8123", "http://127.0.0.1:8124/", "http://127.0.0.1:9", restored=False)
    assert "http://127.0.0.1:8123/v1" in text and "http://127.0.0.1:8124/" in text
    for user_id, what in (("thu-tuong", "chair"), ("bo-truong-01", "member"), ("vpcp-chuyen-vien", "secretariat"),
                          ("tro-ly-bo-truong-01", "assistant"), ("platform-admin", "platform administrator")):
        line = next(line for line in text.splitlines() if line.strip().startswith(user_id + " "))
        assert what in line
    assert "http://127.0.0.1:8123/v1/dev/token" in text and "Nguyễn Văn An" in text


def test_the_banner_says_when_the_web_app_is_not_built():
    text = run_local.banner("http://127.0.0.1:8123", None, "http://127.0.0.1:9", restored=True)
    assert "not built" in text and "restored from .local/snapshot.json" in text
