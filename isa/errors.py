"""The one exception class of the isa layer."""


class IsaError(ValueError):
    """A malformed instruction, table, program, assembly text or .hwx file.

    The message is one line that names the problem; the CLI prints it and exits 2.
    """
