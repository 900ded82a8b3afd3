"""Process exit codes, shared by every command (kept import-light so --help stays fast)."""

EXIT_OK = 0
EXIT_INPUT_ERROR = 2  # bad input file, or a usage/config error: the user has something to fix
EXIT_UNRESOLVED = 3  # written, but with disputes the vote and arithmetic could not settle
EXIT_SERVERS_UNAVAILABLE = 4  # the model servers the engine needs did not answer
