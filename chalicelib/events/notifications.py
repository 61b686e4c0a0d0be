"""(Stub: the notifications feature fills this blueprint in.)"""
from chalice import Blueprint

bp = Blueprint(__name__)
