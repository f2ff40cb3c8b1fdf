"""The GPU/CPU side of the lab platform: the sandboxed runner and the dataset cache.

Nothing in this package imports Django: a GPU node has only the broker and the dataset storage,
never database credentials. ``workers.harness`` even runs *inside* the sandbox, so this
``__init__`` stays empty on purpose (importing the package must cost nothing there).
"""
