"""Errors raised by storage. Messages say what to do and never carry content."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of storage errors."""


class KeyFileError(StorageError):
    """The key file is missing, unreadable, corrupt, too open, or does not match the data.

    Start-up stops on it: the message says what to do.
    """


class IntegrityError(StorageError):
    """A sealed value failed authentication: tampered, moved, or sealed under another key."""


class ShreddedError(StorageError):
    """The data key of a record was destroyed (crypto-shredded): its fields are gone for good."""
