"""The ``slokeeper`` command line."""
