"""`python -m cqrskit.entrypoints.cli`, the way the CLI starts the processes
of a topology and tests start it."""

import sys

from cqrskit.entrypoints.cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
