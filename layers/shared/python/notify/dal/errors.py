"""Data-layer outcomes the services turn into answers."""


class DuplicateEventError(Exception):
    """This webhook event_id was applied before."""


class ConflictError(Exception):
    """The item changed or exists already; the write was not applied."""


class NotFoundError(Exception):
    """No such item."""
