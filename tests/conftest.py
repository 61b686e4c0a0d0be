"""The test session's own AWS stand-in: moto's server on a free loopback port, the resources created from
infra/, the environment set before the app is imported."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import standin  # noqa: E402
from tests import iam  # noqa: E402

iam.install()  # before any AWS client exists: every function's AWS actions are recorded (tests/iam.py)

_server, ENDPOINT = standin.start_moto()
OUTPUTS = standin.deploy(ENDPOINT)
STATE_DIR = Path(os.environ.get("TEST_STATE_DIR", ROOT / "build" / "test-state"))
APP_ENV = standin.app_env(ENDPOINT, OUTPUTS, STATE_DIR)
LIVE_PORTS = (standin.free_port(), standin.free_port())  # the local WebSocket gateway, started by tests that use it
APP_ENV.update(standin.live_env(*LIVE_PORTS))
os.environ.update(APP_ENV)

from chalicelib.adapters.dev_ca import DevCA  # noqa: E402

DEV_CA = DevCA.load_or_create(STATE_DIR / "dev-ca")  # the local trust anchor, before the app reads it
import logging  # noqa: E402
logging.getLogger("werkzeug").setLevel(logging.WARNING)

from tests.support import Api  # noqa: E402  (imports the app, after the environment is set)


_gateway = None


def pytest_collection_modifyitems(session, config, items):
    """The IAM check reads what every function did during the run: it runs last."""
    last = [i for i in items if i.get_closest_marker("after_everything")]
    items[:] = [i for i in items if i not in last] + last


def pytest_configure(config):
    config.addinivalue_line("markers", "after_everything: runs after every other test of the session")


def pytest_sessionfinish(session, exitstatus):
    if _gateway is not None:
        _gateway.stop()
    _server.stop()


@pytest.fixture(scope="session")
def gateway():
    """The local WebSocket gateway on the session's loopback ports, calling the app's own handlers."""
    global _gateway
    from app import app
    from tools.live_gateway import Gateway

    if _gateway is None:
        _gateway = Gateway(app, *LIVE_PORTS).start()
    return _gateway


@pytest.fixture(scope="session")
def api() -> Api:
    return Api()


@pytest.fixture
def body(api) -> str:
    """A fresh body with a small roster, isolated from every other test by its id."""
    return api.new_body()


@pytest.fixture(scope="session")
def government(api) -> str:
    """A 27-member Government (2019) body shared by the tests that only read or use their own polls/ballots."""
    return api.new_government()
