"""API errors, rendered as Kubernetes Status objects so clients report them as a real cluster's."""

from __future__ import annotations


class ApiError(Exception):
    reasons = {
        400: "BadRequest",
        403: "Forbidden",
        404: "NotFound",
        405: "MethodNotAllowed",
        409: "Conflict",
        410: "Expired",
        415: "UnsupportedMediaType",
        422: "Invalid",
        500: "InternalError",
        503: "ServiceUnavailable",
    }

    def __init__(self, code: int, message: str, reason: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or self.reasons.get(code, "Unknown")
        self.details = details or {}

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def not_found(kind_plural: str, name: str, group: str = "") -> ApiError:
    what = f"{kind_plural}.{group}" if group else kind_plural
    return ApiError(404, f'{what} "{name}" not found', details={"name": name, "group": group, "kind": kind_plural})


def already_exists(kind_plural: str, name: str, group: str = "") -> ApiError:
    what = f"{kind_plural}.{group}" if group else kind_plural
    return ApiError(
        409, f'{what} "{name}" already exists', "AlreadyExists", {"name": name, "group": group, "kind": kind_plural}
    )


def conflict(kind_plural: str, name: str, group: str = "") -> ApiError:
    what = f"{kind_plural}.{group}" if group else kind_plural
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {what} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        "Conflict",
        {"name": name, "group": group, "kind": kind_plural},
    )


def invalid(kind: str, name: str, field: str, message: str) -> ApiError:
    return ApiError(
        422,
        f'{kind} "{name}" is invalid: {field}: {message}',
        "Invalid",
        {"name": name, "kind": kind, "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}]},
    )
