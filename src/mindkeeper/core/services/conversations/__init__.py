"""Use cases over workspaces, peers, sessions, members and messages addressed by name.

Words of errors follow Honcho v3 (the surface these use cases were modelled on): a workspace,
peer or session is named in its "not found" message by the name the client gave.
"""
