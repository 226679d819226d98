"""The ``lots`` command line and the supervisor that runs the three services together."""
