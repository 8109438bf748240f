"""Errors a person can act on.

`InputError` marks bad input (not a bug): its message is shown in the catalog's
`*_error_details` and in the failed materialization, so it must say what is wrong
and what to do about it. `EnvironmentFault` marks a fault of the machine or its
configuration (a full disk, read-only storage, an unreachable catalog, a bad setting): its
message names the path or the environment variable to fix.
"""

import errno


class InputError(ValueError):
    """Bad input from a user: the message tells them what to fix."""


class EnvironmentFault(RuntimeError):
    """The machine or its configuration stops the work, not the input: the message names the path or variable."""


# What an OSError from writing files means to the person running the platform, and what they can do.
_STORAGE_FAULTS = {
    errno.ENOSPC: ("is full", "free space"),
    errno.EDQUOT: ("is over its disk quota", "free space or raise the quota"),
    errno.EFBIG: ("refused a file this large", "raise the file size limit (ulimit -f)"),
    errno.EROFS: ("is read-only", "make it writable"),
    errno.EACCES: ("is not accessible to this user", "fix its permissions"),
    errno.EPERM: ("is not accessible to this user", "fix its permissions"),
}


def storage_fault(error: OSError, where: str, variable: str) -> EnvironmentFault | None:
    """`error` as a fault naming the path `where` it happened and the `variable` that moves it.

    None when the error is not one of the storage's faults (a missing file is a bug, not the disk).
    """
    meaning = _STORAGE_FAULTS.get(error.errno) if error.errno is not None else None
    if meaning is None:
        return None
    what, fix = meaning
    return EnvironmentFault(f"storage at {where} {what} ({error.strerror}): {fix}, or point {variable} elsewhere")


class LockHeldError(RuntimeError):
    """A person holds the editor lock on a database the job wants to write."""


class SupersededVersionError(RuntimeError):
    """A newer layout approval arrived: this version's run must publish and activate nothing."""
