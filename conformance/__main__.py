"""``python -m conformance [pytest arguments]``: the conformance suite, wherever it is installed.

    XENT_ADAPTER=mypkg.xent:Adapter python -m conformance
    python -m conformance --xent-adapter mypkg.xent:Adapter -n 4 -k cross_entropy

Runs pytest on this package's folder with the folder above it as rootdir, so the test ids are
this project's own (``conformance/test_values.py::...``): hypothesis derandomizes the ``ci``
profile's draws from the test id, so a run here draws the same cases as the project's runs,
from whatever folder it is started. No configuration file is read (a project's pytest settings
around an installed package must not apply to it), and no ``.pytest_cache`` is written into
the installation. Tracebacks are short (``--tb=short``; a later ``--tb`` wins): a failure
names the call, the values and the error, and carries a reproducer.
"""

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

sys.exit(pytest.main([str(HERE), f"--rootdir={HERE.parent}", f"--config-file={os.devnull}",
                      "-p", "no:cacheprovider", "--tb=short", *sys.argv[1:]]))
