"""Domain errors <-> gRPC status codes with google.rpc rich details."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from crm_kit import errors


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(err: errors.DomainError) -> grpc.Status:
    details = []
    if isinstance(err, errors.InvalidArgument):
        code = code_pb2.INVALID_ARGUMENT
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in err.violations])))
    elif isinstance(err, errors.NotFound):
        code = code_pb2.NOT_FOUND
        details.append(_pack(error_details_pb2.ResourceInfo(
            resource_type=err.resource_type, resource_name=err.resource_name)))
    elif isinstance(err, errors.AlreadyExists):
        code = code_pb2.ALREADY_EXISTS
        details.append(_pack(error_details_pb2.ErrorInfo(
            reason="DUPLICATE_" + err.resource_type.upper(), domain="crm",
            metadata={"key": err.key, "relation": err.relation})))
    elif isinstance(err, errors.FailedPrecondition):
        code = code_pb2.FAILED_PRECONDITION
        details.append(_pack(error_details_pb2.PreconditionFailure(violations=[
            error_details_pb2.PreconditionFailure.Violation(type=v.type, subject=v.subject, description=v.description)
            for v in err.violations])))
    elif isinstance(err, errors.Aborted):
        code = code_pb2.ABORTED
        details.append(_pack(error_details_pb2.ErrorInfo(reason="CONTENTION", domain="crm",
                                                         metadata={"resource_type": err.resource_type})))
    elif isinstance(err, errors.PermissionDenied):
        code = code_pb2.PERMISSION_DENIED
    elif isinstance(err, errors.Unauthenticated):
        code = code_pb2.UNAUTHENTICATED
    elif isinstance(err, errors.Unavailable):
        code = code_pb2.UNAVAILABLE
    elif isinstance(err, errors.ResourceExhausted):
        code = code_pb2.RESOURCE_EXHAUSTED
    else:
        code = code_pb2.INTERNAL
    return rpc_status.to_status(status_pb2.Status(code=code, message=err.message, details=details))


def details_of(error: grpc.RpcError) -> list:
    """The unpacked google.rpc detail messages of a failed call (may be empty)."""
    try:
        status = rpc_status.from_call(error)
    except (ValueError, AttributeError):
        return []
    if status is None:
        return []
    out = []
    for detail in status.details:
        for cls in (error_details_pb2.BadRequest, error_details_pb2.ResourceInfo,
                    error_details_pb2.ErrorInfo, error_details_pb2.PreconditionFailure):
            if detail.Is(cls.DESCRIPTOR):
                msg = cls()
                detail.Unpack(msg)
                out.append(msg)
    return out
