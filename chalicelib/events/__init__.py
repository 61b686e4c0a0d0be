"""Scheduled functions and queue consumers: thin, like the HTTP handlers, each calling a service."""
