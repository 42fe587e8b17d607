"""One error hierarchy. User mistakes exit 2, runs that ran but failed exit 1."""


class TunenetError(Exception):
    """Base of every error tunenet reports to the user without a traceback."""

    exit_code = 2


class ConfigError(TunenetError):
    """The config file is unreadable or invalid."""


class DataError(TunenetError):
    """The data could not be loaded or split."""


class RunDirError(TunenetError):
    """The run directory is missing, malformed, or would be overwritten."""


class SearchError(TunenetError):
    """The search ran but failed (no trial completed, too many failures)."""

    exit_code = 1


class Interrupted(TunenetError):
    """The user stopped the search (Ctrl-C)."""

    exit_code = 130
