"""`python -m hwsim ...` is the same as the `hwsim` console script."""
import sys

from hwsim.cli.main import main

sys.exit(main())
