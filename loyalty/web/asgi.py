"""The ASGI entry for servers with several workers: `uvicorn loyalty.web.asgi:app`."""

from loyalty.web.app import server_app, tune_interpreter

tune_interpreter()
app = server_app()
