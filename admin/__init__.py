"""The merchant admin at `/admin` and the till at `/till`."""

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    from admin.routes import install

    install(app)
