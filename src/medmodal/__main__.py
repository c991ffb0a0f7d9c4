"""``python -m medmodal``: the command line."""

from medmodal.cli import main

if __name__ == "__main__":
    main()
