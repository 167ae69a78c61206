"""The one failure taxonomy. Every failure talking to a platform is exactly one of these,
and that kind alone decides what happens next (after the Airbyte CDK's error table)."""

from __future__ import annotations

from enum import StrEnum


class FailureKind(StrEnum):
    TRANSIENT = "transient"          # retry later with backoff; counts an attempt
    RATE_LIMITED = "rate_limited"    # wait as the platform says; no attempt counted
    CONFIGURATION = "configuration"  # a person must act; never retried
    RECORD = "record"                # skip this record, finish the batch


class ConnectorFailure(Exception):
    """Base of the taxonomy: a message for the operator, and what kind of failure it is."""

    kind: FailureKind

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.kind in (FailureKind.TRANSIENT, FailureKind.RATE_LIMITED)

    @property
    def counts_attempt(self) -> bool:
        return self.kind is not FailureKind.RATE_LIMITED


class TransientError(ConnectorFailure):
    kind = FailureKind.TRANSIENT


class RateLimited(ConnectorFailure):
    kind = FailureKind.RATE_LIMITED

    def __init__(self, message: str, *, wait_seconds: float, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.wait_seconds = wait_seconds


class ConfigurationError(ConnectorFailure):
    kind = FailureKind.CONFIGURATION

    def __init__(self, message: str, *, fix: str, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.fix = fix


class RecordError(ConnectorFailure):
    kind = FailureKind.RECORD

    def __init__(self, message: str, *, record: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.record = record
