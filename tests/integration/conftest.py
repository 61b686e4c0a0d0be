"""The prod deployment, packaged once per session for the template and IAM checks."""
from __future__ import annotations

import warnings

import pytest

from tools import package as packaging


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    # Native builds Lambda cannot load are allowed here (this reads the template); `make package` refuses them.
    # The test session's CA stands in for the Government Cipher Committee's: a prod package needs an anchor.
    from tests.conftest import STATE_DIR

    result = packaging.package("prod", tmp_path_factory.mktemp("package") / "prod", allow_host_wheels=True,
                               trust_anchors=STATE_DIR / "dev-ca" / "ca-cert.pem")
    for line in result.not_lambda_builds:
        warnings.warn(f"packaged for the template checks only, not a Lambda build: {line}")
    return result


@pytest.fixture(scope="session")
def template(packaged) -> dict:
    return packaged.template
