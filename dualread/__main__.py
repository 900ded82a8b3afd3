"""``python -m dualread``: the same as the ``dualread`` command."""

from dualread.cli import main

main()
