"""Domain errors, each carrying the API's problem code and a Vietnamese detail; mapped to HTTP in one place."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "validation_error"
    title = "Yêu cầu không hợp lệ"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationFailed(DomainError):
    pass


class Unauthenticated(DomainError):
    status, code, title = 401, "unauthenticated", "Chưa xác thực"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Không có quyền"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Không tìm thấy"

    def __init__(self, detail: str = "Không tìm thấy tài nguyên.", **extra):
        super().__init__(detail, **extra)


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Xung đột trạng thái"


class WrongState(Conflict):
    """An action asked of an entity in a state that does not allow it; says which state it was in."""

    def __init__(self, what: str, state: str, action: str):
        super().__init__(f"Không thể {action}: {what} đang ở trạng thái «{state}».", state=state)


class AlreadyDone(Conflict):
    """A second vote or answer: carries the receipt of the first."""


class ClassifiedRefused(DomainError):
    status, code, title = 422, "classified_refused", "Tài liệu mật không được đưa lên hệ thống"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Dữ liệu quá lớn"


class RateLimited(DomainError):
    status, code, title = 429, "rate_limited", "Quá nhiều yêu cầu"
