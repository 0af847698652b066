"""Pure OICP 2.3 ⇄ canonical translation, one module per OICP service (DESIGN.md, "The shape")."""
