"""Every refusal a use case can answer, in one place. The APIs map them to HTTP in one
module each (notify/api/errors.py); nothing else decides a status code."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal the caller can act on. `field` names what it concerns (API error body)."""

    field = "request"


class NotAuthenticatedError(ServiceError):
    """The request is not signed by a key of this practice, or not for this request, or
    too old, or replayed (P4). The same answer for all: nothing to probe."""

    field = "headers.signature"


class EventRejectedError(ServiceError):
    """The event cannot apply to the current state."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnsupportedEventError(EventRejectedError):
    """An event type we do not know (422)."""


class InvalidSettingsError(EventRejectedError):
    """Practice settings that cannot be stored (422, the field named: P6, C8)."""


class NotFoundForPracticeError(ServiceError):
    """Nothing with that id in this practice (never reveals other practices' data)."""

    field = "path"


class UnknownPatientError(NotFoundForPracticeError):
    field = "patient_id"


class NeedsConfirmationError(ServiceError):
    """K5: a manual recall to a no-marketing patient needs the sender's confirmation."""

    field = "confirmed"


class RecallsOffError(EventRejectedError):
    """The practice does not use recalls: a PMS recall record would never be sent."""

    def __init__(self) -> None:
        super().__init__("type", "recalls are not enabled for this practice")


class NotAMobileNumberError(ServiceError):
    field = "number"


class LinkNotFoundError(ServiceError):
    """Unknown, malformed or expired patient link. For an expired one the practice is
    known, and its page can offer a way forward (its booking page or phone)."""

    def __init__(self, token: str = "", practice_id: str | None = None) -> None:
        super().__init__("link not found")
        self.practice_id = practice_id


class ActionNotAllowedError(ServiceError):
    """The appointment is no longer in a state that allows the action."""


class FormProblemError(ServiceError):
    """A patient page's form sent a value it cannot take: the field, a word key for the
    page to say why in the patient's language (the page shows the form again), and the
    same in English for the app's developers (JSON)."""

    def __init__(self, field: str, problem: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.problem = problem
        self.message = message


class UnknownMessageError(ServiceError):
    """The message is not one of this link's appointment."""

    field = "body.message_id"
