"""A complete example of running the suite on your own library: copy this folder.

- ``tinyloss.py`` stands in for your library: two losses in plain NumPy, written the naive way;
- ``adapter.py`` is what you write: one class declaring each loss API as a ``Binding``;
- ``tinyloss.toml``, beside the adapter, is its deviation registry: what tinyloss does
  differently from exact mathematics, and why.

Run it with ``XENT_ADAPTER=adapters.example.adapter:TinylossAdapter pytest --pyargs conformance``
(README, "Running the suite on your own build").
"""
