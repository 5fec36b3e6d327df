"""The service consumes the `email` topic in a background task, calling the MQ SDK naively."""
