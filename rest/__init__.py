"""The REST API (XML, JSON on request) and its developer page: parse, call orders, serialize."""
