"""The arrows of the code point inward: api/ and events/ → services/ → domain/, with adapters reached only
from services; the domain is plain Python that imports nothing from AWS or the web framework; no module
calls another module's private helpers."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "chalicelib"
AWS_OR_FRAMEWORK = {"boto3", "botocore", "pynamodb", "chalice", "aws_xray_sdk"}


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports, `from chalicelib.services import bodies` counted as
    `chalicelib.services.bodies`."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def offenders(layer: str, forbidden) -> list[str]:
    out = []
    for path in sorted((LIB / layer).rglob("*.py")):
        out += [f"{layer}/{path.name}: {name}" for name in imported_modules(path) if forbidden(name)]
    return out


def test_domain_imports_no_aws_framework_or_outer_layer():
    def forbidden(name):
        return (name.split(".")[0] in AWS_OR_FRAMEWORK
                or name.startswith(("chalicelib.adapters", "chalicelib.services", "chalicelib.api",
                                    "chalicelib.events")))

    assert offenders("domain", forbidden) == []


@pytest.mark.parametrize("layer", ["services", "domain"])
def test_services_and_domain_know_no_http(layer):
    assert offenders(layer, lambda name: name.startswith("chalicelib.api")) == []


@pytest.mark.parametrize("layer", ["api", "events"])
def test_entry_points_reach_adapters_only_through_services(layer):
    assert offenders(layer, lambda name: name.startswith("chalicelib.adapters")) == []


def test_the_checks_above_can_fail(tmp_path):
    """The import walker sees both spellings of an import, so the layer tests are not vacuous."""
    sample = tmp_path / "sample.py"
    sample.write_text("from chalicelib.adapters import store\nimport chalicelib.api.http\n")
    assert {"chalicelib.adapters.store", "chalicelib.api.http"} <= set(imported_modules(sample))


def test_no_module_calls_another_modules_private_helpers():
    """`other._helper(...)` across modules: what is shared gets a public name in the module that owns it."""
    calls = []
    for path in sorted(LIB.rglob("*.py")):
        tree = ast.parse(path.read_text())
        modules = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and
                   (n.module or "").startswith("chalicelib") for a in n.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                calls.append(f"{path.relative_to(LIB)}:{node.lineno} {node.value.id}.{node.attr}")
    assert calls == []
