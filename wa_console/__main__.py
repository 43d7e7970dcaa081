"""`python -m wa_console` and the PyInstaller entry point."""

import sys

from wa_console.cli import main

if __name__ == "__main__":
    sys.exit(main())
