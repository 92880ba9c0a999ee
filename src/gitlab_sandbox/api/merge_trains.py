"""The merge trains API, as GitLab answers it on a tier without merge trains.

Merge trains are a Premium feature: ``ee/lib/api/merge_trains.rb`` authorizes every route
with ``authorize_read_merge_train!`` / ``authorize_update_merge_train!``, which answer
``403 Forbidden`` when the project's license does not include them. The sandbox emulates such
a tier (projects show ``merge_trains_enabled: false``), after the caller may see the project.
"""

from __future__ import annotations

from fastapi import APIRouter

from gitlab_sandbox.api.deps import ReaderDep, SandboxDep, WriterDep, project_for
from gitlab_sandbox.api.errors import ApiError

router = APIRouter()

P = "/projects/{project_id}/merge_trains"
NOT_LICENSED = "403 Forbidden"


@router.get(P)
@router.get(P + "/{target_branch}")
@router.get(P + "/merge_requests/{iid}")
def read_trains(project_id: str, caller: ReaderDep, sandbox: SandboxDep) -> None:
    """Listing trains, a branch's train or an MR's car: not on this tier."""
    project_for(sandbox, caller, project_id)
    raise ApiError(403, NOT_LICENSED)


@router.post(P + "/merge_requests/{iid}")
def add_to_train(project_id: str, caller: WriterDep, sandbox: SandboxDep) -> None:
    """Adding an MR to a train: not on this tier."""
    project_for(sandbox, caller, project_id)
    raise ApiError(403, NOT_LICENSED)
