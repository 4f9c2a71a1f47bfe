"""``python -m flchain``: the same as the ``flchain`` console script."""

from flchain.cli import main

main()
