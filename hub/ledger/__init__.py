"""The settlement ledger (DESIGN.md "Ledger"): an append-only journal of balanced entries.

Every CDR the hub accepts becomes exactly one entry (``booking``), whose postings say who owes whom what,
per currency, cost and VAT apart, with the hub's fees in the same entry (``journal`` is the pure core).
Balances and netting are folds over postings (``balances``); settlement periods close for good and
produce statements (``periods``, ``statements``, ``render``); a partner's CDR list is compared with the
hub's (``reconcile``). ``cli`` and ``api`` are the operator's doors; ``store`` is table access.

Errors are the hub's own (hub/errors.py): ``journal.UnbalancedEntry`` (a bug, HTTP 500), ``Conflict`` for
closing a closed period, ``NotFound``, ``InvalidParameters`` for bad periods, flags and partner files.
"""
