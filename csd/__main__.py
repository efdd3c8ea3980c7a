"""`python -m csd`: the same as the console script `csd-run`."""

from csd.cli import main

if __name__ == "__main__":
    main()
