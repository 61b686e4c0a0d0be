"""The notifications queue's consumer: renders and sends each event, reporting failed messages one by one."""
from chalice import Blueprint

from chalicelib import settings
from chalicelib.domain import clock
from chalicelib.services import notifications

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=settings.get().notifications_queue, batch_size=10)
def deliver_notifications(event):
    # Partial batch failures: only the messages that failed come back, the others are not sent again.
    return notifications.consume([record.to_dict() for record in event], clock.now())
