"""The exchange queue's consumer: deliveries between bodies and events for other systems, each message on its
own (partial batch failures), each idempotent on its dispatch or event id."""
from chalice import Blueprint

from chalicelib import settings
from chalicelib.services import exchange

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=settings.get().exchange_queue, batch_size=10)
def deliver_exchange(event):
    return exchange.consume([record.to_dict() for record in event])
