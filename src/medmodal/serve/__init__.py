"""The clinical decision-support service: FastAPI app, web page and model loading.

Start it with ``medmodal serve`` or build the app with :func:`create_app`. Needs the
``serve`` extra (fastapi, uvicorn, python-multipart).
"""

from medmodal.serve.app import create_app
from medmodal.serve.settings import Settings

__all__ = ["Settings", "create_app"]
