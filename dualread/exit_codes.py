"""Process exit codes, shared by every command, and the errors behind them.

Kept import-light so ``--help`` stays fast. Every error's ``str()`` is one line that names the
file or the server and what to do; no command shows a traceback for them::

    Exception
    ├── DocumentError (documents)         a file that cannot be read as asked         -> 2
    ├── ValueError
    │   ├── ConfigError (config)          a setting that cannot be used               -> 2
    │   └── SchemaError (statement)       a result outside the schema: never written  (a bug)
    ├── BackendError (backends.base)      one model call failed after its retries: that
    │   │                                 reading is missing, the vote goes on        -> 3
    │   ├── NoAnswer                      no answer within timeout_s: as BackendError;
    │   │                                 two documents in a row: as ServerUnreachable
    │   └── ServerUnreachable             the server did not answer at all: the batch
    │                                     asks no more models, keeps what it read     -> 4
    ├── ServersUnavailable (runtime)      the servers a batch needs could not be brought
    │   │                                 up, or died twice: as ServerUnreachable     -> 4
    │   └── ServerAsleep                  a vLLM server the user runs sleeps: never
    │                                     woken by dualread, never sent to            -> 4
    ├── LauncherError (runtime)           a container or process could not be started
    │   └── DockerError                   or stopped: as ServerUnreachable            -> 4
    └── EmbeddedReadError (stages)        the embedded engine read no statement: that
                                          reading is missing, the vote goes on        -> 3

A document that is written has exit code 0 (agreed, resolved, single) or 3 (unresolved); one
written only in part because its servers went down has 4. A batch exits with the worst code.
"""

EXIT_OK = 0
EXIT_INPUT_ERROR = 2  # bad input file, or a usage/config error: the user has something to fix
EXIT_UNRESOLVED = 3  # written, but with disputes the vote and arithmetic could not settle
EXIT_SERVERS_UNAVAILABLE = 4  # the model servers the engine needs did not answer
