"""Every fifteen minutes: sign the head of every body chain that moved since its last checkpoint."""
from chalice import Blueprint, Rate

from chalicelib.services import checkpoints

bp = Blueprint(__name__)


@bp.schedule(Rate(15, unit=Rate.MINUTES))
def sign_checkpoints(event):
    return checkpoints.sign_moved()
