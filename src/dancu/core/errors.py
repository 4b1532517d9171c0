"""Errors raised by services, each with a stable code, the field at fault and a message.

Views render them as form errors, the API as JSON ``{"code", "field", "message"}``,
the importer as report lines. The message is a lazy translation so it follows the
caller's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise


@dataclass(frozen=True)
class FieldError:
    code: str
    message: str | StrPromise
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "message": str(self.message)}


class DomainError(Exception):
    """A rule of the domain refused the operation. Carries one or more FieldErrors."""

    status = 400

    def __init__(self, code: str, message: Any, field: str | None = None,
                 *, errors: list[FieldError] | None = None) -> None:
        self.errors = errors or [FieldError(code, message, field)]
        first = self.errors[0]
        self.code, self.message, self.field = first.code, first.message, first.field
        super().__init__(f"{self.code}: {self.message}" + (f" ({self.field})" if self.field else ""))

    @classmethod
    def many(cls, errors: list[FieldError]) -> DomainError:
        return cls(errors[0].code, errors[0].message, errors[0].field, errors=errors)

    def as_dict(self) -> dict[str, Any]:
        body = self.errors[0].as_dict()
        if len(self.errors) > 1:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


class NotFound(DomainError):
    status = 404


class OutOfJurisdiction(DomainError):
    """The actor's role or area does not cover this record."""

    status = 403


class Conflict(DomainError):
    status = 409
