"""The one exception class of the targets layer."""


class TargetError(ValueError):
    """An unknown target, a malformed or invalid target YAML, or a bad override.

    The message is one line naming the file or target, the field, the value and the limit.
    """
