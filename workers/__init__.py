"""The RQ side: job functions (ids in, one orders.pipeline step each), the worker runner, the sweep."""
