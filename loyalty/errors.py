"""Domain errors: each carries a stable code and the HTTP status the web layer renders."""

from typing import Any


class LoyaltyError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self, detail: str, *, code: str | None = None, extra: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra
        self.headers = headers  # for the response, e.g. Retry-After


class InvalidInput(LoyaltyError):
    status = 422
    code = "invalid"


class NotAuthenticated(LoyaltyError):
    status = 401
    code = "not_authenticated"


class Forbidden(LoyaltyError):
    status = 403
    code = "forbidden"


class NotFound(LoyaltyError):
    status = 404
    code = "not_found"


class Conflict(LoyaltyError):
    status = 409
    code = "conflict"


class Gone(LoyaltyError):
    status = 410
    code = "gone"


class TooManyRequests(LoyaltyError):
    status = 429
    code = "too_many_requests"
