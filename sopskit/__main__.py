"""`python -m sopskit`: the same entry point as the `sopskit` console script."""

from sopskit.cli.main import main

main()
