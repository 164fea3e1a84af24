"""Use cases of derived memory on the named surface: conclusions, peer cards,
representations, context, session summaries, message search and the message index.

Words of errors follow Honcho v3 (the surface these use cases were modelled on), naming
workspaces, peers and sessions by the names the client gave.
"""
