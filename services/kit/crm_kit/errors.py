"""Domain errors: raised by domain rules and services, free of transport.

The gRPC layer maps each to a status code with rich details
(`crm_kit.grpc_errors`); the gateway maps those to problem+json.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    """Base class; `message` is safe to show to the caller."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    def __init__(self, violations: list[FieldViolation] | FieldViolation, message: str = "invalid request"):
        self.violations = violations if isinstance(violations, list) else [violations]
        detail = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(f"{message}: {detail}" if detail else message)


# A name longer than any id of ours is the caller's text: echoing it back could
# overflow the status trailers (the caller would get RESOURCE_EXHAUSTED instead).
MAX_ECHOED_NAME = 128


class NotFound(DomainError):
    def __init__(self, resource_type: str, resource_name: str = ""):
        self.resource_type = resource_type
        self.resource_name = resource_name if len(resource_name or "") <= MAX_ECHOED_NAME else ""
        super().__init__(f"{resource_type} not found")


class AlreadyExists(DomainError):
    """A natural key is taken. `relation` says whose record holds it
    (for example "yours" or "another_owner") without revealing the record."""

    def __init__(self, resource_type: str, key: str, relation: str, message: str):
        self.resource_type = resource_type
        self.key = key
        self.relation = relation
        super().__init__(message)


@dataclass
class PreconditionViolation:
    type: str
    subject: str
    description: str


class FailedPrecondition(DomainError):
    def __init__(self, violations: list[PreconditionViolation], message: str):
        self.violations = violations
        super().__init__(message)


class Aborted(DomainError):
    """Other writers kept winning the same record for longer than the
    attempts allowed: a conflict the caller may retry (gRPC ABORTED, 409)."""

    def __init__(self, resource_type: str, resource_name: str = "",
                 message: str = "the record is being changed by others right now; retry"):
        self.resource_type = resource_type
        self.resource_name = resource_name
        super().__init__(message)


class PermissionDenied(DomainError):
    pass


class Unauthenticated(DomainError):
    pass


class ResourceExhausted(DomainError):
    """A bounded resource of this service is in use up to its limit; the
    caller may retry later (gRPC RESOURCE_EXHAUSTED)."""


class Unavailable(DomainError):
    """A service this one depends on could not answer; the caller may retry
    (gRPC UNAVAILABLE, 503)."""

