"""The Chalice app: created here, every feature registered as a blueprint, nothing else."""
from chalice import Chalice

from chalicelib import wiring

app = Chalice(app_name="ecabinet")
wiring.register(app)
