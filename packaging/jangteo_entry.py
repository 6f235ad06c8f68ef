"""The frozen app's entry point: the same `jangteo` command (window without a command, the
command line with one)."""

import sys

from ui.main import main

if __name__ == "__main__":
    sys.exit(main())
