"""The one exception class of the compiler layer."""


class CompilerError(ValueError):
    """An unknown model, a malformed config, an impossible workload, or a model that does not
    fit the target. One line naming the problem; the CLI prints it and exits 2."""
