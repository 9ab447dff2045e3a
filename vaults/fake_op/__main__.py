"""`python -m vaults.fake_op ...` runs the fake `op` (see vaults/fake_op/__init__.py)."""

import sys

from vaults.fake_op.cli import main

sys.exit(main())
