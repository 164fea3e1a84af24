"""Amazon Bedrock AgentCore Memory: both planes (`bedrock-agentcore` data plane,
`bedrock-agentcore-control` memory operations and tags) over the core's memory model.

`surface` routes, authenticates, parses and shapes by the botocore service models
(`http/aws`); `control`, `events` and `records` map parsed members to one use case each
(`core.services.agentcore`); `strategies` and `ids` translate strategy shapes and identifiers;
`errors` renders failures. See docs/agentcore.md.
"""

from mindkeeper.http.agentcore.surface import AgentCoreSurface

__all__ = ["AgentCoreSurface"]
