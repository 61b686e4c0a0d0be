"""The five-minute sweep: reminders and overdue warnings that fell due, ballots at their deadline, held SMS,
and deliveries between bodies whose message was lost or dead-lettered."""
import logging

from chalice import Blueprint, Rate

from chalicelib.domain import clock
from chalicelib.services import exchange, reminders

bp = Blueprint(__name__)
log = logging.getLogger("ecabinet.sweep")


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def sweep(event):
    now = clock.now()
    counts = reminders.sweep(now)
    try:
        counts["dispatches_requeued"] = exchange.redrive_due(now)
    except Exception:
        log.exception("queueing undelivered dispatches again failed")
    return counts
