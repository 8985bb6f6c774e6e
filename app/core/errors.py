"""One error vocabulary for the whole product.

    CovoteError                 base: a message a person can act on, an HTTP status, a code
    ├── BadInput          400   malformed or invalid input (form, JSON, CSV, WebSocket frame)
    │   └── InvalidForm   400   several problems of one form, each with the field it concerns
    ├── NotFacilitator    403   the console needs the facilitator link
    ├── CsrfFailed        403   a change without the page's token (stale page or forged request)
    ├── NotJoined         403   a ballot from a browser that has not joined the meeting
    ├── NotFound          404   unknown meeting, round, proposal or segment
    ├── RoundClosed       409   a ballot for a round that is not open
    ├── Conflict          409   a change the current state forbids (e.g. segments after voting)
    ├── PayloadTooLarge   413   a body or WebSocket message over the limit
    ├── TooManyRequests   429   over a rate limit (app/web/ratelimit.py); `retry_after` seconds
    └── StorageUnavailable 503  the database could not store the change; nothing was kept

Services raise these; `main.py` renders them once (JSON for /api, a page for forms) and
`ws.py` turns them into `error` frames. Nothing else catches them to hide them.

A message may name placeholders filled from keyword arguments:
`NotFound(N_("No meeting has the code %(code)s."), code=code)`. `.message` is the English text
(the API, the WebSocket and logs); the error page translates `.msgid` and fills in `.params`, so
mark attendee-facing messages with `N_` (app/web/i18n.py) to put them in the catalogues.
"""

from __future__ import annotations


class CovoteError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, **params: object) -> None:
        self.msgid = message
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)


class BadInput(CovoteError):
    status_code = 400
    code = "bad_input"


class InvalidForm(BadInput):
    """Every problem of one form at once (a set-up section), so the page can show each next
    to its field: `problems` lists `(field, error)`, `field` being the input's id in the page
    ("" for the form as a whole). The message is the first problem's. Nothing was saved."""

    def __init__(self, problems: list[tuple[str, CovoteError]]) -> None:
        if not problems:
            raise ValueError("InvalidForm needs at least one problem")
        first = problems[0][1]
        super().__init__(first.msgid, **first.params)
        self.problems = problems
        self.status_code = max(e.status_code for _, e in problems)


class NotFacilitator(CovoteError):
    status_code = 403
    code = "not_facilitator"


class CsrfFailed(CovoteError):
    status_code = 403
    code = "csrf_failed"


class NotJoined(CovoteError):
    status_code = 403
    code = "not_joined"


class NotFound(CovoteError):
    status_code = 404
    code = "not_found"


class RoundClosed(CovoteError):
    status_code = 409
    code = "round_closed"


class Conflict(CovoteError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(CovoteError):
    status_code = 413
    code = "too_large"


class TooManyRequests(CovoteError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int = 1, **params: object) -> None:
        super().__init__(message, **params)
        self.retry_after = max(1, retry_after)  # whole seconds, for the Retry-After header


class StorageUnavailable(CovoteError):
    status_code = 503
    code = "storage_unavailable"
