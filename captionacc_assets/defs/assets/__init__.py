"""The per-video assets of SPEC §2, one module per stage."""
