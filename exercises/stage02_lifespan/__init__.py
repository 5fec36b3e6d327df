"""The service loads its resources once, in the lifespan, before it serves any request."""
