"""The examples in ``examples/``, each run against the emulator."""
