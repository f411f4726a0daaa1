"""Helpers shared by the tests: loopback servers, test pictures, tiny models, backends."""
