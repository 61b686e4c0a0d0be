"""The live room's stream consumer: every change of the table, after it is written, pushed to the meeting's
connections (a vote's own request makes no call for it)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import settings
from chalicelib.services import live

bp = Blueprint(__name__)
STREAM_ARN = settings.get().table_stream_arn


if STREAM_ARN:
    @bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=100, starting_position="LATEST", name="push_room_changes")
    def push_room_changes(event):
        return live.push_changes(event.to_dict()["Records"])
