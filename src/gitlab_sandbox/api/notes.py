"""MR notes and discussions (threads with resolvable notes)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from gitlab_sandbox.api import render_mr
from gitlab_sandbox.api.deps import (
    Caller,
    ParamsDep,
    ReaderDep,
    SandboxDep,
    WriterDep,
    merge_request_for,
    project_for,
)
from gitlab_sandbox.api.errors import forbidden, missing, not_found
from gitlab_sandbox.api.pagination import paginate
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services import events
from gitlab_sandbox.services.auto_merge import process_auto_merge
from gitlab_sandbox.store import AccessLevel, Discussion, MergeRequest, Note, Project

router = APIRouter()

MR = "/projects/{project_id}/merge_requests/{iid}"


def _new_note(
    sandbox: Sandbox, caller: Caller, body: str, discussion_id: str, *, threaded: bool
) -> Note:
    now = sandbox.now()
    return Note(
        id=sandbox.store.next_id("note"),
        body=body,
        author_id=caller.user.id,
        created_at=now,
        updated_at=now,
        resolvable=threaded,
        discussion_id=discussion_id,
        type="DiscussionNote" if threaded else None,
    )


def _find_note(mr: MergeRequest, note_id: int) -> Note:
    note = next((n for n in mr.all_notes() if n.id == note_id), None)
    if note is None:
        raise not_found("Note")
    return note


def _find_discussion(mr: MergeRequest, discussion_id: str) -> Discussion:
    found = next((d for d in mr.discussions if d.id == discussion_id), None)
    if found is None:
        raise not_found("Discussion")
    return found


def _start_discussion(
    sandbox: Sandbox,
    caller: Caller,
    project: Project,
    mr: MergeRequest,
    body: str,
    *,
    threaded: bool,
) -> tuple[Discussion, Note]:
    """A new discussion holding one note: a plain note, or the start of a resolvable thread."""
    discussion = Discussion(id=secrets.token_hex(20), individual_note=not threaded)
    note = _new_note(sandbox, caller, body, discussion.id, threaded=threaded)
    discussion.notes.append(note)
    mr.discussions.append(discussion)
    _posted(sandbox, project, mr, note, caller)
    return discussion, note


def _posted(
    sandbox: Sandbox, project: Project, mr: MergeRequest, note: Note, caller: Caller
) -> None:
    mr.updated_at = sandbox.now()
    events.note_event(sandbox, project, mr, note, caller.user)


def _body(params: Any) -> str:
    body = params.str("body")
    if not body or not body.strip():
        raise missing("body")
    return str(body)


@router.get(MR + "/notes")
async def list_notes(
    project_id: str,
    iid: int,
    request: Request,
    params: ParamsDep,
    caller: ReaderDep,
    sandbox: SandboxDep,
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    key = "updated_at" if params.str("order_by") == "updated_at" else "created_at"
    notes = sorted(
        mr.all_notes(), key=lambda n: (getattr(n, key), n.id), reverse=params.str("sort") != "asc"
    )
    page, headers = paginate(request, params, notes)
    return JSONResponse([render_mr.note(sandbox, project, mr, n) for n in page], headers=headers)


@router.get(MR + "/notes/{note_id}")
async def get_note(
    project_id: str, iid: int, note_id: int, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    return render_mr.note(sandbox, project, mr, _find_note(mr, note_id))


@router.post(MR + "/notes", status_code=201)
async def create_note(
    project_id: str, iid: int, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    _, note = _start_discussion(sandbox, caller, project, mr, _body(params), threaded=False)
    return render_mr.note(sandbox, project, mr, note)


@router.put(MR + "/notes/{note_id}")
async def update_note(
    project_id: str,
    iid: int,
    note_id: int,
    params: ParamsDep,
    caller: WriterDep,
    sandbox: SandboxDep,
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    note = _find_note(mr, note_id)
    if (
        note.author_id != caller.user.id
        and sandbox.store.access_level(project, caller.user) < AccessLevel.MAINTAINER
    ):
        raise forbidden()
    note.body = _body(params)
    note.updated_at = sandbox.now()
    return render_mr.note(sandbox, project, mr, note)


@router.delete(MR + "/notes/{note_id}", status_code=204)
async def delete_note(
    project_id: str, iid: int, note_id: int, caller: WriterDep, sandbox: SandboxDep
) -> Response:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    note = _find_note(mr, note_id)
    if (
        note.author_id != caller.user.id
        and sandbox.store.access_level(project, caller.user) < AccessLevel.MAINTAINER
    ):
        raise forbidden()
    for discussion in mr.discussions:
        discussion.notes = [n for n in discussion.notes if n.id != note_id]
    mr.discussions = [d for d in mr.discussions if d.notes]
    return Response(status_code=204)


@router.get(MR + "/discussions")
async def list_discussions(
    project_id: str,
    iid: int,
    request: Request,
    params: ParamsDep,
    caller: ReaderDep,
    sandbox: SandboxDep,
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    page, headers = paginate(request, params, mr.discussions)
    return JSONResponse(
        [render_mr.discussion(sandbox, project, mr, d) for d in page], headers=headers
    )


@router.get(MR + "/discussions/{discussion_id}")
async def get_discussion(
    project_id: str, iid: int, discussion_id: str, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    return render_mr.discussion(sandbox, project, mr, _find_discussion(mr, discussion_id))


@router.post(MR + "/discussions", status_code=201)
async def create_discussion(
    project_id: str, iid: int, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    """Start a thread; its notes are resolvable (they block merging when required)."""
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    discussion, _ = _start_discussion(sandbox, caller, project, mr, _body(params), threaded=True)
    return render_mr.discussion(sandbox, project, mr, discussion)


@router.post(MR + "/discussions/{discussion_id}/notes", status_code=201)
async def reply(
    project_id: str,
    iid: int,
    discussion_id: str,
    params: ParamsDep,
    caller: WriterDep,
    sandbox: SandboxDep,
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    discussion = _find_discussion(mr, discussion_id)
    note = _new_note(sandbox, caller, _body(params), discussion.id, threaded=True)
    if discussion.individual_note:
        # Replying to a plain comment turns it into a thread, as in GitLab.
        discussion.individual_note = False
        for earlier in discussion.notes:
            earlier.resolvable, earlier.type = True, "DiscussionNote"
    discussion.notes.append(note)
    _posted(sandbox, project, mr, note, caller)
    return render_mr.note(sandbox, project, mr, note)


def _resolve(sandbox: Sandbox, caller: Caller, notes: list[Note], resolved: bool) -> None:
    now = sandbox.now()
    for note in notes:
        if note.resolvable:
            note.resolved = resolved
            note.resolved_by_id = caller.user.id if resolved else None
            note.resolved_at = now if resolved else None


@router.put(MR + "/discussions/{discussion_id}")
async def resolve_discussion(
    project_id: str,
    iid: int,
    discussion_id: str,
    params: ParamsDep,
    caller: WriterDep,
    sandbox: SandboxDep,
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    mr = merge_request_for(sandbox, project, iid)
    discussion = _find_discussion(mr, discussion_id)
    resolved = params.bool("resolved")
    if resolved is None:
        raise missing("resolved")
    _resolve(sandbox, caller, discussion.notes, resolved)
    mr.updated_at = sandbox.now()
    answer = render_mr.discussion(sandbox, project, mr, discussion)
    await process_auto_merge(sandbox, project, mr)
    return answer


@router.put(MR + "/discussions/{discussion_id}/notes/{note_id}")
async def update_discussion_note(
    project_id: str,
    iid: int,
    discussion_id: str,
    note_id: int,
    params: ParamsDep,
    caller: WriterDep,
    sandbox: SandboxDep,
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    discussion = _find_discussion(mr, discussion_id)
    note = next((n for n in discussion.notes if n.id == note_id), None)
    if note is None:
        raise not_found("Note")
    if params.bool("resolved") is not None:
        _resolve(sandbox, caller, [note], bool(params.bool("resolved")))
        await process_auto_merge(sandbox, project, mr)
    elif params.str("body"):
        if note.author_id != caller.user.id:
            raise forbidden()
        note.body = _body(params)
        note.updated_at = sandbox.now()
    else:
        raise missing("body")
    return render_mr.note(sandbox, project, mr, note)
