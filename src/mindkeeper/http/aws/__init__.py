"""What every AWS-compatible surface shares: botocore service models as routing and validation
tables (`model`, `shapes`), SigV4 verification (`sigv4`), the error and response writer
(`wire`) and opaque page tokens (`pagination`).

The surfaces (`http/bedrock`, `http/agentcore`) import this package; it imports neither.
"""
