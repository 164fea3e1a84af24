"""HTTP adapters: one package per wire surface, assembled by `create_app`."""
