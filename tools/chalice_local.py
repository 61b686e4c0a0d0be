"""`chalice local` with Nagle's algorithm off on its connections.

Its request handler writes the headers and the body of a response in two sends; on a kept-alive connection
Nagle's algorithm then holds the body until the client's delayed ACK, about 40 ms per response, which is the
dev server's artefact, not the API's (API Gateway does not do it). Usage: python -m tools.chalice_local local ..."""
import logging
import sys

from chalice import local

# PynamoDB announces at INFO, on import, that it found no /etc/pynamodb settings file: true of every local run.
logging.getLogger("pynamodb.settings").setLevel(logging.WARNING)

local.ChaliceRequestHandler.disable_nagle_algorithm = True

from chalice.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "chalice"
    sys.exit(main())
