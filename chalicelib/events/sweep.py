"""The five-minute sweep: reminders and overdue warnings that fell due, ballots at their deadline, held SMS."""
from chalice import Blueprint, Rate

from chalicelib.domain import clock
from chalicelib.services import reminders

bp = Blueprint(__name__)


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def sweep(event):
    return reminders.sweep(clock.now())
