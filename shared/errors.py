"""The caller's faults, raised anywhere in a service and mapped to HTTP once, at the edge."""

from __future__ import annotations


class CallerError(Exception):
    """A fault of the caller: answered with `status_code` and a JSON `detail`, never a 5xx."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def headers(self) -> dict[str, str]:
        return {}


class Unauthenticated(CallerError):
    status_code = 401

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class BadSignature(CallerError):
    status_code = 401


class Forbidden(CallerError):
    status_code = 403


class NotFound(CallerError):
    status_code = 404


class Conflict(CallerError):
    status_code = 409


class PayloadTooLarge(CallerError):
    status_code = 413


class UnsupportedMediaType(CallerError):
    status_code = 415


class InvalidInput(CallerError):
    status_code = 422


class RateLimited(CallerError):
    status_code = 429

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}
