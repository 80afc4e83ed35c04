"""A simulator of ODK Central for tests and the demo: never a production path.

It does what trogiup and pyodk ask of Central, in Central's shapes, checked
against responses recorded from a real Central (tests/contract/). Where a
behaviour could not be checked, it is left out rather than guessed.

- ``server``: the ASGI app, ``serve`` (``trogiup central-sim``), ``run_in_thread``
- ``store``: the SQLite state, and ``Store.bulk_submit`` for fast seeding
- ``api_*``: the routes, by Central resource
- ``xform``, ``odata_rows``, ``odata_expr``, ``odata_filter``, ``edmx``,
  ``csv_export``: reading forms, submissions and ``$filter`` expressions, and
  writing OData and CSV as Central writes them
- ``faults``: injected latency, 5xx, timeouts and dropped connections
- ``demo``: the seeded simulator behind ``make run`` (written by the demo's owner)
"""
