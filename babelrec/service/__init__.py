"""`babelrec serve`: an HTTP API (FastAPI) over the same `Recommender`, and a chat page."""

from babelrec.service.app import create_app

__all__ = ["create_app"]
