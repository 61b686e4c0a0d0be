"""Registers every feature's blueprint and event handlers on the app, after settings are read once."""
from __future__ import annotations

import logging

from chalicelib import settings


def register(app) -> None:
    settings.get()  # fail at start-up, not on the first request, when the environment is wrong
    from chalicelib.adapters import aws, logs

    logs.configure()
    aws.enable_tracing()
    app.log.setLevel(logging.INFO)
    from chalicelib.api import bodies, system

    for module in (system, bodies):
        app.register_blueprint(module.bp)
