"""Text embedders implementing the core ``Embedder`` port (local ONNX MiniLM, ...)."""
