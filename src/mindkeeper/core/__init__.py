"""The domain core: entities, values, ports and use cases. Imports no framework or driver."""
