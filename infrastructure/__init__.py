"""Adapters below the service layer: database and Flask extensions, storage, Redis and queues, rate limit,
credentials, the SSRF-safe fetcher, image checks. They know orders only by its codes and errors."""
