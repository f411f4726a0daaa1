"""The two kinds of failure the service layer raises.

ServiceError answers an API call (it carries an ErrorCode); ProcessingError ends
an order in 90 Failed (it carries a FailureReason). Protocol code turns the first
into a response; workers turn the second into a status change.
"""
from __future__ import annotations

from orders.codes import ErrorCode, FailureReason


class ServiceError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProcessingError(Exception):
    """An order cannot be processed.

    ``retryable`` marks a passing fault (network) that a later attempt may clear;
    everything else fails the order at once.
    """

    def __init__(self, reason: FailureReason, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message
        self.retryable = retryable
