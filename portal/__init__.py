"""The member portal at `/`."""

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    from portal.routes import install

    install(app)
