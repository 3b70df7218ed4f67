"""The pieces of the ``filestack-async`` command (see `filestack_async.cli`).

Nothing here imports rich at import time: the progress bars load it when a command
shows them, and fall back to plain output when it is not installed.
"""
