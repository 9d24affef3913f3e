"""`python -m cchc_excel` runs the `cchc` command line."""

from .app.cli import main

main()
