import sys

from bot.cli import main

if __name__ == "__main__":  # not when a worker process (the export's) imports this module
    sys.exit(main())
