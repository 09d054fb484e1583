"""`python -m minidi.cli ...` runs the command line, as `minidi ...` does."""
from .main import main

main()
