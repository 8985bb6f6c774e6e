"""The typed dependencies route handlers declare: the app's services (`ServicesDep`) and a
row id in a path (`RowId`).

`Services` is app/web/services.py's and `TEMPLATES` app/web/rendering.py's; both are named
here too, for the console's charter page (app/console/charter.py), which another branch is
changing now: new code imports them from their own modules.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi import Path as PathParam
from starlette.requests import HTTPConnection

from app.core.bounds import DB_INT_MAX
from app.web.rendering import TEMPLATES
from app.web.services import Services

__all__ = ["TEMPLATES", "RowId", "Services", "ServicesDep", "get_services"]


def get_services(conn: HTTPConnection) -> Services:
    """The app's services (`create_app` puts them on `app.state`)."""
    services: Services = conn.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

# Every integer in a path (a meeting, round or ticket number) is positive and fits the
# database's integers; anything else is a 404 (main._validation_error), never an overflow.
RowId = Annotated[int, PathParam(ge=1, le=DB_INT_MAX)]
