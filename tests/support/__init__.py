"""Test helpers: a loopback HTTP server for the fetcher tests."""
