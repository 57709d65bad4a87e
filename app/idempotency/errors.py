"""What a request with an `Idempotency-Key` can be refused for."""

from app.errors import AppError, InvalidInput

HEADER = "Idempotency-Key"


class InvalidIdempotencyKey(InvalidInput):
    code = "invalid_idempotency_key"
    detail = "Invalid Idempotency-Key header"
    title = "The `Idempotency-Key` header is empty, too long, repeated or not printable ASCII"

    def __init__(self, message: str) -> None:
        super().__init__(("header", HEADER.lower()), message)


class IdempotencyKeyReused(AppError):
    status_code = 422
    code = "idempotency_key_reused"
    detail = (
        "This Idempotency-Key was already used for a different request; "
        "send a new key for a new request"
    )
    title = "The `Idempotency-Key` was first sent with another method, path or body"


class IdempotencyRequestInProgress(AppError):
    status_code = 409
    code = "idempotency_request_in_progress"
    detail = "A request with this Idempotency-Key is still running; retry after it finishes"
    title = "The first request with this `Idempotency-Key` is still running; see `Retry-After`"

    def __init__(self, retry_after_seconds: int = 1) -> None:
        super().__init__()
        self.response_headers["Retry-After"] = str(max(1, retry_after_seconds))
