"""FastAPI dependencies, declared once; routes only name them."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from server.db import get_engine
from server.settings import Settings


def app_settings(request: Request) -> Settings:
    # The app's own settings, not the environment's: the demo points them at
    # the simulator after start-up.
    return request.app.state.settings


def database_session(request: Request) -> Iterator[Session]:
    with Session(get_engine(app_settings(request).effective_database_url)) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(app_settings)]
SessionDep = Annotated[Session, Depends(database_session)]
