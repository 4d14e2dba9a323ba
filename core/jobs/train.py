"""``python -m core.jobs.train JOB.json``: the same as ``core.jobs.run`` (kind "train")."""

import sys

from core.jobs.run import main

if __name__ == "__main__":
    sys.exit(main())
