"""Amazon Bedrock Agent Runtime session management (sessions, invocations, steps, tags).

A thin wire adapter over `core.services.agent_sessions` / `agent_steps`: `dispatch` routes the
raw path, `schemas` + `validation` check requests, `mapping` renders entities, `errors` renders
failures, `arn` and `pagination` handle identifiers and tokens. See docs/bedrock.md.
"""

from mindkeeper.http.bedrock.dispatch import BedrockSurface
from mindkeeper.http.bedrock.errors import too_large

__all__ = ["BedrockSurface", "too_large"]
