"""OGC API – Features over our tables: collections, CQL2 filters, queries, documents, HTML.

``collections`` is the registry, ``cql2`` parses and translates filters, ``queries`` runs the
SQL, ``documents`` builds the JSON responses, ``html`` renders them, and ``params`` checks the
query parameters. ``api.routers.ogc`` only speaks HTTP.
"""
