"""Errors a user can cause and fix; the CLI prints their message as it is, without traceback."""


class UserInputError(ValueError):
    """A file or argument the user gave is not usable; the message names it and what to do."""
