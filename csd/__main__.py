"""`python -m csd`: the same as the console script `csd-run`."""

from csd._start import main

if __name__ == "__main__":
    main()
