"""The one exception type for problems a user can fix."""


class CockpitError(Exception):
    """A problem the user can fix: the message names the file or field and what to do.

    The CLI prints it as one line and exits with code 2; the GUI shows it in a message bar.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
