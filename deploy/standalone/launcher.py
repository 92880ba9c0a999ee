"""Entry point of the one-file executable: the ``merge-assist`` command line.

Started without arguments (a double-click), it runs ``serve --standalone``: one user's
instance on this machine, data in the user's data folder, the dashboard opened in the browser.
"""

import sys

from merge_assist.cli import main

if __name__ == "__main__":
    if len(sys.argv) == 1:
        sys.argv += ["serve", "--standalone"]
    main()
