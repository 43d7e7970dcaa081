"""`python -m wa_console.sandbox [--port N] [--host H] [--templates N]`."""

import sys

from wa_console.sandbox.cli import main

sys.exit(main())
