"""Pure OCPI 2.2.1 ⇄ canonical translation, one module per OCPI module (DESIGN.md, "The shape")."""
