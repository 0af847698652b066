"""OCPI wire models, one package per protocol version (``v2_2_1``, ...).

These models describe what travels on the wire, nothing more: they accept unknown fields and keep them,
so a relayed object is not silently trimmed. Translation to the hub's canonical models lives in ``adapters``.
"""
