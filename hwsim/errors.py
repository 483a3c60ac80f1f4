"""The one exception class of the hwsim layer."""


class HwsimError(ValueError):
    """A problem with the user's request to hwsim; the CLI prints it as one line and exits 2."""
