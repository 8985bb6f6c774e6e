"""The typed dependencies route handlers declare: the app's services (`ServicesDep`) and a
row id in a path (`RowId`).

`Services` itself is app/web/services.py's, the templates app/web/rendering.py's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi import Path as PathParam
from starlette.requests import HTTPConnection

from app.core.bounds import DB_INT_MAX
from app.web.services import Services


def get_services(conn: HTTPConnection) -> Services:
    """The app's services (`create_app` puts them on `app.state`)."""
    services: Services = conn.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

# Every integer in a path (a meeting, round or ticket number) is positive and fits the
# database's integers; anything else is a 404 (main._validation_error), never an overflow.
RowId = Annotated[int, PathParam(ge=1, le=DB_INT_MAX)]
