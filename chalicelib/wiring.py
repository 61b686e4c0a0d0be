"""Registers every feature's blueprint and event handlers on the app, after settings are read once."""
from __future__ import annotations

import importlib
import logging

from chalicelib import settings

API = ("system", "bodies", "certificates", "audit", "documents", "ballots", "meetings", "polls", "resolutions",
       "notifications", "exchange", "live")
EVENTS = ("sweep", "checkpoints", "notifications", "documents", "exchange", "live")
APP = None


def register(app) -> None:
    global APP
    settings.get()  # fail at start-up, not on the first request, when the environment is wrong
    from chalicelib import logs
    from chalicelib.adapters import aws

    logs.configure()
    aws.enable_tracing()
    app.log.setLevel(logging.INFO)
    app.experimental_feature_flags.update(["WEBSOCKETS"])  # the live room (chalicelib/api/live.py)
    for name in API:
        app.register_blueprint(importlib.import_module(f"chalicelib.api.{name}").bp)
    for name in EVENTS:
        app.register_blueprint(importlib.import_module(f"chalicelib.events.{name}").bp)
    APP = app
