"""`make package`: every function on python3.12, a prod package refused without a trust anchor, the stage's
first administrators and user claim passed to every function."""
from __future__ import annotations

import zipfile

import pytest

from tools import package as packaging


def test_a_prod_package_without_a_trust_anchor_is_refused(tmp_path):
    empty = tmp_path / "empty.pem"
    empty.write_text("# no certificate here\n")
    with pytest.raises(packaging.PackagingError, match="no trust anchor"):
        packaging.package("prod", tmp_path / "out", allow_host_wheels=True, trust_anchors=empty)
    assert not (tmp_path / "out").exists()
    # The repository's prod bundle is a placeholder: packaging prod from it alone is refused too.
    if packaging.trust_anchor_count(packaging.stage_anchors("prod").read_bytes()) == 0:
        with pytest.raises(packaging.PackagingError, match="TRUST_ANCHORS"):
            packaging.package("prod", tmp_path / "out", allow_host_wheels=True)
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    with pytest.raises(packaging.PackagingError, match="cannot be read"):
        packaging.package("prod", tmp_path / "out", allow_host_wheels=True, trust_anchors=broken)


def test_the_given_trust_anchors_are_the_ones_packaged(packaged):
    from tests.conftest import STATE_DIR

    with zipfile.ZipFile(packaged.out / "deployment.zip") as archive:
        names = archive.namelist()
        assert names.count("chalicelib/trust/prod.pem") == 1
        assert archive.read("chalicelib/trust/prod.pem") == (STATE_DIR / "dev-ca" / "ca-cert.pem").read_bytes()


def test_every_function_runs_python_3_12_or_newer(template):
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions
    for name, function in functions.items():
        runtime = function["Properties"]["Runtime"]
        assert runtime.startswith("python3.") and int(runtime.split(".")[1]) >= 12, (name, runtime)


def test_lambda_builds_are_chosen_for_the_functions_runtime():
    assert packaging.tag_runs_on_lambda("cp312-cp312-manylinux_2_17_x86_64")
    assert packaging.tag_runs_on_lambda("cp311-abi3-manylinux_2_34_x86_64")  # cryptography's abi3 build
    assert not packaging.tag_runs_on_lambda("cp311-cp311-manylinux_2_17_x86_64")  # another Python's extension
    assert not packaging.tag_runs_on_lambda("cp312-cp312-manylinux_2_39_x86_64")  # a newer glibc than AL2023's
    assert packaging.tag_runs_on_lambda("py3-none-any")


def test_the_first_administrators_and_the_user_claim_reach_every_function(template):
    params = template["Parameters"]
    assert "Default" not in params["PlatformAdmins"]  # a stack is never created without one
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["PLATFORM_ADMINS"] == {"Ref": "PlatformAdmins"}
    assert variables["OIDC_USER_CLAIM"] == {"Ref": "OidcUserClaim"}


def test_the_zip_carries_bytecode_for_the_functions_python(tmp_path):
    python = packaging.runtime_python()
    if python is None:
        pytest.skip(f"no python{packaging.PYTHON_VERSION} on this machine")
    archive = tmp_path / "deployment.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("app.py", "VALUE = 42\n")
        out.writestr("chalicelib/__init__.py", "")
    assert packaging.add_bytecode(archive)
    tag = "cpython-" + packaging.PYTHON_VERSION.replace(".", "")
    with zipfile.ZipFile(archive) as done:
        names = set(done.namelist())
    assert {"app.py", f"__pycache__/app.{tag}.pyc", f"chalicelib/__pycache__/__init__.{tag}.pyc"} <= names
