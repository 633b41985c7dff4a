"""Adapters: one module per numerical library, calling its public cross-entropy APIs and
returning what it did (values, gradients or the error it raised) as observations."""
