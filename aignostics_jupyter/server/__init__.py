"""The Jupyter server extension: authenticated REST and tile routes under ``{base_url}aignostics-jupyter/``.

Handlers are thin: they parse the request, call the client, storage or slides code through the services built
once at load time (:class:`~aignostics_jupyter.server.services.Services`), and format the answer. Every route
requires Jupyter authentication; errors map to HTTP in one place (:class:`~aignostics_jupyter.server.base.BaseHandler`).
"""
