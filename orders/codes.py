"""Every code a customer or operator can see, named once.

The README's status, error, failure-reason and currency tables are written from
these definitions; change them here and there together.
"""
from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """Order status: the id goes on the wire as STATUSID, the name as STATUSNAME."""

    RECEIVED = 10
    SEGMENTING = 20
    AWAITING_REVIEW = 40
    REDO_REQUESTED = 45
    IN_REVIEW = 50
    IN_QA = 55
    RENDERING = 60
    DELIVERED = 80
    FAILED = 90
    REJECTED = 95
    CANCELLED = 97

    @property
    def wire_name(self) -> str:
        return _STATUS_NAMES[self]

    @property
    def is_final(self) -> bool:
        """Nothing more happens to an order in a final status; its callback announces it."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({Status.DELIVERED, Status.FAILED, Status.REJECTED, Status.CANCELLED})

# The customer may cancel an order until an operator opens it (DELETE Image).
CANCELLABLE = frozenset({Status.RECEIVED, Status.SEGMENTING, Status.AWAITING_REVIEW})


class CallbackState(enum.StrEnum):
    """Where an order's callback stands (orders.callback_state)."""

    PENDING = "pending"  # queued, or waiting for its next retry
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every retry spent
    GONE = "gone"  # the receiver answered 410: never again


CALLBACK_STATE_WORDS = {
    CallbackState.PENDING: "pending (queued, or waiting for its next retry)",
    CallbackState.DELIVERED: "delivered (the receiver answered 2xx)",
    CallbackState.FAILED: "failed (every retry spent; resend-callback sends it again)",
    CallbackState.GONE: "gone (the receiver answered 410 Gone; no more retries)",
}


_STATUS_NAMES = {
    Status.RECEIVED: "Received",
    Status.SEGMENTING: "Segmenting",
    Status.AWAITING_REVIEW: "Awaiting review",
    Status.REDO_REQUESTED: "Redo requested",
    Status.IN_REVIEW: "In review",
    Status.IN_QA: "In QA",
    Status.RENDERING: "Rendering",
    Status.DELIVERED: "Delivered",
    Status.FAILED: "Failed",
    Status.REJECTED: "Rejected",
    Status.CANCELLED: "Cancelled",
}

STATUS_DESCRIPTIONS = {
    Status.RECEIVED: "Accepted and queued; the image has not been fetched yet.",
    Status.SEGMENTING: "The image was fetched and the model is drawing the first mask.",
    Status.AWAITING_REVIEW: "A draft mask waits in the operators' review queue.",
    Status.REDO_REQUESTED: "You sent the delivered image back (Reject); it waits at the top of the review queue "
                           "for a redo. The earlier FINALIMAGEURL keeps working.",
    Status.IN_REVIEW: "An operator is checking or fixing the mask.",
    Status.IN_QA: "Approved, and picked for a second check by a senior operator before rendering.",
    Status.RENDERING: "Approved; the final image is being rendered.",
    Status.DELIVERED: "The final image is at FINALIMAGEURL.",
    Status.FAILED: "Could not be processed; `message` says why.",
    Status.REJECTED: "An operator rejected the image; `message` says why.",
    Status.CANCELLED: "You cancelled the order before an operator opened it; nothing is charged.",
}

# Which moves the lifecycle allows. A move not listed here is a bug, not a
# customer error, and orders.lifecycle refuses it.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.SEGMENTING, Status.AWAITING_REVIEW, Status.FAILED, Status.CANCELLED}),
    Status.SEGMENTING: frozenset({Status.RECEIVED, Status.AWAITING_REVIEW, Status.FAILED, Status.CANCELLED}),
    # Rendering or In QA straight from the queue: a bulk approval (orders.review.bulk_approve).
    Status.AWAITING_REVIEW: frozenset({Status.IN_REVIEW, Status.IN_QA, Status.RENDERING, Status.REJECTED,
                                       Status.FAILED, Status.CANCELLED}),
    Status.REDO_REQUESTED: frozenset({Status.IN_REVIEW}),
    # A redo an operator gives back goes back to Redo requested, not Awaiting review (orders.review).
    Status.IN_REVIEW: frozenset({Status.AWAITING_REVIEW, Status.REDO_REQUESTED, Status.IN_QA, Status.RENDERING,
                                 Status.REJECTED, Status.FAILED}),
    # A senior passes the approval (Rendering) or sends it back to its operator (In review).
    Status.IN_QA: frozenset({Status.RENDERING, Status.IN_REVIEW, Status.FAILED}),
    Status.RENDERING: frozenset({Status.DELIVERED, Status.FAILED, Status.AWAITING_REVIEW}),
    Status.DELIVERED: frozenset({Status.REDO_REQUESTED}),
    Status.FAILED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
}


class ErrorCode(enum.Enum):
    """API error codes: the value goes on the wire as ERRORCODE (REST) or ErrorCode (SOAP)."""

    NO_ERROR = "noError"
    INVALID_CREDENTIALS = "invalidCredentials"
    MISSING_PARAMETER = "missingParameter"
    INVALID_PARAMETER = "invalidParameter"
    UNKNOWN_TEMPLATE = "unknownTemplate"
    UNKNOWN_TICKET = "unknownTicket"
    UNSUPPORTED_MEDIA_TYPE = "unsupportedMediaType"
    REQUEST_TOO_LARGE = "requestTooLarge"
    RATE_LIMITED = "rateLimited"
    IDEMPOTENCY_CONFLICT = "idempotencyConflict"
    NOT_CANCELLABLE = "notCancellable"
    REDO_NOT_ALLOWED = "redoNotAllowed"
    NOT_FOUND = "notFound"
    METHOD_NOT_ALLOWED = "methodNotAllowed"
    INTERNAL_ERROR = "internalError"

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    ErrorCode.NO_ERROR: 200,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.MISSING_PARAMETER: 400,
    ErrorCode.INVALID_PARAMETER: 400,
    ErrorCode.UNKNOWN_TEMPLATE: 404,
    ErrorCode.UNKNOWN_TICKET: 404,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.REQUEST_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.IDEMPOTENCY_CONFLICT: 409,
    ErrorCode.NOT_CANCELLABLE: 409,
    ErrorCode.REDO_NOT_ALLOWED: 409,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.INTERNAL_ERROR: 500,
}

ERROR_DESCRIPTIONS = {
    ErrorCode.NO_ERROR: "The call succeeded.",
    ErrorCode.INVALID_CREDENTIALS: "Unknown e-mail, wrong API key, disabled customer, or an unknown developer key.",
    ErrorCode.MISSING_PARAMETER: "A required parameter is absent or empty; `message` names it.",
    ErrorCode.INVALID_PARAMETER: "A parameter has the wrong form (URL scheme, hours, malformed JSON…); "
                                 "`message` names it.",
    ErrorCode.UNKNOWN_TEMPLATE: "No active template has that id.",
    ErrorCode.UNKNOWN_TICKET: "No order of yours has that ticket.",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "The body is neither JSON nor an HTML form post.",
    ErrorCode.REQUEST_TOO_LARGE: "The body is larger than MAX_REQUEST_BYTES.",
    ErrorCode.RATE_LIMITED: "Too many calls for this account or from this address, or too many failed sign-ins; "
                            "retry after the Retry-After header's seconds.",
    ErrorCode.IDEMPOTENCY_CONFLICT: "This IdempotencyKey was used within 24 h for a POST Image with other "
                                    "parameters; nothing was created.",
    ErrorCode.NOT_CANCELLABLE: "Only orders in 10 Received, 20 Segmenting or 40 Awaiting review can be cancelled; "
                               "nothing changed.",
    ErrorCode.REDO_NOT_ALLOWED: "Only a delivered order can be sent back, within REDO_WINDOW_DAYS of its "
                                "delivery and at most MAX_REDOS times; nothing changed.",
    ErrorCode.NOT_FOUND: "No such API path.",
    ErrorCode.METHOD_NOT_ALLOWED: "That path does not take this HTTP method.",
    ErrorCode.INTERNAL_ERROR: "An unexpected fault on our side; nothing was half-written. Retry later.",
}


class FailureReason(enum.Enum):
    """Why an order ended 90 Failed; shown as the first word of the status `message`."""

    DOWNLOAD_FAILED = "downloadFailed"
    BLOCKED_ADDRESS = "blockedAddress"
    NOT_AN_IMAGE = "notAnImage"
    CORRUPT_IMAGE = "corruptImage"
    IMAGE_TOO_LARGE = "imageTooLarge"
    FILE_TOO_LARGE = "fileTooLarge"
    SEGMENTATION_FAILED = "segmentationFailed"
    RENDER_FAILED = "renderFailed"
    STORAGE_UNAVAILABLE = "storageUnavailable"
    INTERNAL_ERROR = "internalError"


FAILURE_DESCRIPTIONS = {
    FailureReason.DOWNLOAD_FAILED: "The image URL could not be fetched "
                                   "(DNS, connection, timeout, HTTP error, too many redirects), after retries.",
    FailureReason.BLOCKED_ADDRESS: "The URL, or a redirect, points at a loopback, private, link-local or "
                                   "otherwise non-public address, or at a port other than FETCH_ALLOWED_PORTS.",
    FailureReason.NOT_AN_IMAGE: "The bytes are not a JPEG, PNG, WebP or TIFF image "
                                "(whatever the name or Content-Type says).",
    FailureReason.CORRUPT_IMAGE: "The image is truncated or cannot be decoded.",
    FailureReason.IMAGE_TOO_LARGE: "The image has more pixels than MAX_IMAGE_PIXELS (decompression-bomb guard).",
    FailureReason.FILE_TOO_LARGE: "The download is larger than MAX_IMAGE_BYTES.",
    FailureReason.SEGMENTATION_FAILED: "The segmentation model could not draft a mask.",
    FailureReason.RENDER_FAILED: "The final image could not be rendered.",
    FailureReason.STORAGE_UNAVAILABLE: "Our file store refused to read or write the order's files "
                                       "for longer than FAULT_RETRY_INTERVALS allow.",
    FailureReason.INTERNAL_ERROR: "An unexpected fault while processing.",
}

# CURRENCYID values on the wire; ISO 4217 codes beside them.
CURRENCIES: dict[int, str] = {
    1: "USD",
    2: "EUR",
    3: "GBP",
    4: "DKK",
    5: "SEK",
    6: "NOK",
    7: "CHF",
    8: "JPY",
    9: "AUD",
    10: "CAD",
}


class RejectReason(enum.Enum):
    """Why an operator rejected an order; the customer sees it as the status `message`."""

    NOT_PRODUCT_PHOTO = "notProductPhoto"
    SUBJECT_UNCLEAR = "subjectUnclear"
    RESOLUTION_TOO_LOW = "resolutionTooLow"
    UNSUPPORTED_CONTENT = "unsupportedContent"
    OTHER = "other"

    @property
    def label(self) -> str:
        return REJECT_LABELS[self]


REJECT_LABELS = {
    RejectReason.NOT_PRODUCT_PHOTO: "Not a product photo",
    RejectReason.SUBJECT_UNCLEAR: "Subject unclear",
    RejectReason.RESOLUTION_TOO_LOW: "Resolution too low",
    RejectReason.UNSUPPORTED_CONTENT: "Unsupported content",
    RejectReason.OTHER: "Other",
}


class MarkupState(enum.StrEnum):
    """Where the customer's markup image of a redo request stands (redo_requests.markup_state)."""

    NONE = "none"  # the customer sent no MarkupImageURL
    PENDING = "pending"  # being fetched
    AVAILABLE = "available"  # stored; shown over the original on the review page
    UNAVAILABLE = "unavailable"  # could not be had (blocked, not an image, too large…): markup_note says why


class Role(enum.Enum):
    """Dashboard roles: operators work the queue; admins also run customers, templates, operators and stats."""

    OPERATOR = "operator"
    ADMIN = "admin"


class Level(enum.Enum):
    """An operator's level (operators.level): seniors get hard drafts first, check sampled approvals (QA) and
    are never sampled themselves. An admin counts as senior whatever their level."""

    OPERATOR = "operator"
    SENIOR = "senior"


class QaOutcome(enum.StrEnum):
    """How a QA check of a sampled approval ended (qa_checks.outcome; None while it waits)."""

    PASSED = "passed"  # a senior passed it: rendered
    RETURNED = "returned"  # a senior sent it back to its operator with a pinned note


class QaReason(enum.StrEnum):
    """Why an approval was sampled for QA (qa_checks.reason)."""

    NEW_OPERATOR = "new operator"  # within the operator's first QA_NEW_OPERATOR_ORDERS approvals
    RANDOM = "random"  # drawn at QA_SAMPLE_PERCENT
    RECHECK = "recheck"  # the operator approved again an order QA had sent back
