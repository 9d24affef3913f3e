"""The office's web page (`cchc serve`, issue 14): an edge like the CLI, thin handlers over the library."""

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
