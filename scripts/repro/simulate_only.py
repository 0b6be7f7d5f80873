"""Runs only the simulate blocks of a reproduction example (the weights its train blocks
saved earlier are read through the blocks' `weights =`):

  python3 scripts/repro/simulate_only.py examples/repro_double_pendulum.lag [lagc]

Writes a copy of the file without its `train` blocks next to it, runs `lagc run` on the
copy from the current directory, and removes the copy.
"""

import os
import re
import subprocess
import sys


def main():
    src = sys.argv[1]
    lagc = sys.argv[2] if len(sys.argv) > 2 else "target/release/lagc"
    text = open(src).read()
    stripped = re.sub(r"(?m)^train\s+\w+\s*\{[^}]*\}\n?", "", text)
    copy = os.path.join(os.path.dirname(src), ".simulate_only_" + os.path.basename(src))
    with open(copy, "w") as f:
        f.write(stripped)
    try:
        sys.exit(subprocess.call([lagc, "run", copy]))
    finally:
        os.remove(copy)


if __name__ == "__main__":
    main()
