"""``python -m ganctl`` (and ``torchrun -m ganctl``) runs the command line."""

from ganctl.cli import main

if __name__ == "__main__":
    main()
