"""The service consumes the `email` topic in a background task; blocking calls leave the loop."""
