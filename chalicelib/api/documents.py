"""Documents: create with upload instructions, add versions, read metadata, list, and issue download links."""
from __future__ import annotations

from typing import Annotated

from chalice import Blueprint
from pydantic import Field, StringConstraints

from chalicelib.api.http import LIST_QUERY, Schema, route
from chalicelib.api.schemas import Text
from chalicelib.services import documents
from chalicelib.services.context import Principal

bp = Blueprint(__name__)

Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]


class DocumentUpload(Schema):
    """A file to upload (filename, content_type, size, sha256 required), or with `placeholder: true` a paper
    handled offline with no bytes."""
    title: Text
    filename: str | None = Field(default=None, min_length=1, max_length=255)
    content_type: str | None = Field(default=None, min_length=1, max_length=200)
    size: int | None = Field(default=None, ge=1)
    sha256: Hex64 | None = None
    classification: str | None = Field(default=None, max_length=50)
    placeholder: bool = False


@route(bp, "/v1/bodies/{body}/documents", "POST", body=DocumentUpload, status=201,
       summary="Create a document: its first version pending upload, with the upload instructions")
def create_document(principal: Principal, body_id: str, body: DocumentUpload):
    return documents.create_document(principal, body_id, body.model_dump())


@route(bp, "/v1/bodies/{body}/documents", query=LIST_QUERY, summary="The body's documents the caller may read")
def list_documents(principal: Principal, body_id: str, query: dict):
    return documents.list_documents(principal, body_id, query["limit"], query["cursor"])


@route(bp, "/v1/bodies/{body}/documents/{doc}/versions", "POST", body=DocumentUpload, status=201,
       summary="Add a new version (n+1) pending upload; earlier versions stay as they are")
def add_version(principal: Principal, body_id: str, document_id: str, body: DocumentUpload):
    return documents.add_version(principal, body_id, document_id, body.model_dump())


@route(bp, "/v1/bodies/{body}/documents/{doc}", summary="A document's metadata and its versions")
def get_document(principal: Principal, body_id: str, document_id: str):
    return documents.get_document(principal, body_id, document_id)


@route(bp, "/v1/bodies/{body}/documents/{doc}/download", query={"version": (int, None)},
       summary="A download link valid for at most 300 s to an available version (audited)")
def download(principal: Principal, body_id: str, document_id: str, query: dict):
    return documents.download(principal, body_id, document_id, query["version"])
