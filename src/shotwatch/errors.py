"""One exception hierarchy for Shotwatch.

The CLI turns every :class:`ShotwatchError` into one line on stderr and exit status 2;
the API turns it into a 4xx. Foreign exceptions are mapped at the boundary with
``raise InputError(...) from None``.
"""

from __future__ import annotations


class ShotwatchError(Exception):
    """Base class of every error Shotwatch raises on purpose."""


class InputError(ShotwatchError, ValueError):
    """Bad input: a malformed file, a wrong type, an unknown sensor, clock nonsense.

    ``source`` names the file (and line, as ``path:line``) when there is one.
    """

    def __init__(self, message: str, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class ConfigError(ShotwatchError):
    """A setting is missing or unsafe."""


class NotFoundError(ShotwatchError):
    """A named object (sensor, incident, user) does not exist."""


class PermissionDeniedError(ShotwatchError):
    """The caller's role does not allow the action."""
