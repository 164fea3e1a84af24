"""The queue jobs that remove deleted sessions and workspaces for good."""

from __future__ import annotations

from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.jobs import DELETE_SESSION, DELETE_WORKSPACE, Job

#: The kinds of job this module runs.
KINDS = (DELETE_SESSION, DELETE_WORKSPACE)


async def process(runtime: Runtime, job: Job) -> bool:
    """Run a deletion job in one transaction; return False when its lease was lost.

    A session job removes the session and what depends on it, then completes. A workspace job
    removes the workspace with every row that carries its id, its own row included.
    """
    assert job.lease_token is not None
    now = runtime.now()
    async with runtime.uow() as uow:
        # Renewing under the lease first also locks the job's row until the commit.
        if not await uow.jobs.renew(job.key, job.lease_token, now + runtime.deriver_policy.lease):
            return False
        if job.kind == DELETE_SESSION:
            session_id = (job.payload or {}).get("session_id")
            if isinstance(session_id, str):
                await uow.sessions.purge(job.workspace_id, session_id)
            await uow.jobs.complete(job.key, job.lease_token, now)
        else:
            await uow.workspaces.purge(job.workspace_id)
        await uow.commit()
    return True
