"""``python -m adapters [--write README.md]``: print or update the supported-API table."""

import argparse
from pathlib import Path

from adapters.support_table import replace_in, table

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--write", metavar="FILE", help="update the table in FILE in place")
args = parser.parse_args()
if args.write:
    path = Path(args.write)
    path.write_text(replace_in(path.read_text()))
else:
    print(table())
