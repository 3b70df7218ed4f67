"""The user's suite opts in to the emulator fixtures shipped with filestack-async."""

pytest_plugins = ["filestack_async.testing"]
