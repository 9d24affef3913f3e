"""`python -m cchc_excel` runs the `cchc` command line."""

from .cli import main

main()
