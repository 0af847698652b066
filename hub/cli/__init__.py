"""The ``roamhub`` command line: works on the configured database directly, no running hub needed."""
