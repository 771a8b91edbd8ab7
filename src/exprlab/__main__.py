"""``python -m exprlab``: the same command line as ``exprlab``."""

from exprlab.cli import main

main()
