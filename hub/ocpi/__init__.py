"""The OCPI 2.2.1 front door and partner client."""
