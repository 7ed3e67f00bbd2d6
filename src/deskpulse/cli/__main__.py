"""`python -m deskpulse.cli`: the same as the `deskpulse` command."""

from deskpulse.cli import main

main()
