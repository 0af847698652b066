"""OICP wire models (Hubject's Open InterCharge Protocol), one package per protocol version (``v2_3``).

Like the OCPI models, they describe what travels on the wire and nothing more: unknown fields are kept,
Hubject's spelling drift is read in every known form and written in one, and translation to the hub's
canonical models lives in ``adapters``.
"""
