"""docs/API.md's reference part is what tools/api_docs.py generates from the app's own OpenAPI document."""
from chalicelib.api import openapi
from tools import api_docs


def test_reference_in_api_md_matches_the_served_openapi_document():
    written = api_docs.split(api_docs.DOC.read_text(encoding="utf-8"))[1]
    generated = api_docs.generate(openapi.document())
    assert written == generated, "docs/API.md's reference differs from the app's OpenAPI document: run `make docs`"


def test_every_route_is_in_the_reference():
    reference = api_docs.generate(openapi.document())
    for path, ops in openapi.document()["paths"].items():
        for method in ops:
            assert f"#### `{method.upper()} {path}`" in reference


def test_a_new_route_or_field_changes_the_reference():
    document = openapi.document()
    before = api_docs.generate(document)
    document["paths"]["/v1/bodies/{body}/new-thing"] = {"post": {"summary": "Something new", "responses": {"201": {}}}}
    document["components"]["schemas"]["Vote"]["properties"]["reason"] = {"type": "string"}
    after = api_docs.generate(document)
    assert "`POST /v1/bodies/{body}/new-thing`" in after and "| `reason` | string |" in after
    assert before != after


def test_the_reference_is_sorted_so_merges_regenerate_it_identically():
    document = openapi.document()
    shuffled = dict(document, paths=dict(reversed(list(document["paths"].items()))))
    assert api_docs.generate(shuffled) == api_docs.generate(document)
