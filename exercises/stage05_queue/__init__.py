"""The service consumes the `email` topic through a bounded queue: one puller, N workers."""
