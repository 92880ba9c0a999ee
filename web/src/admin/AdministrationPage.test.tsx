import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ADA } from "../testing/fakeAuth";
import { answer, fakeApi } from "../testing/fakeApi";
import { findAlert, project, renderPage } from "../testing/renderPage";
import { AdministrationPage } from "./AdministrationPage";
import type { AuditEntry, ProjectConfig, User } from "./api";
import { auditQuery } from "./AuditLog";

const CONFIG: ProjectConfig = {
  project_id: 1, target_branches: ["main"], strategy: "single", batch_size: 5, train_depth: 3, parallel_tests: 4, pipeline_retries: 1, skip_ci_on_landing: false,
  polling_interval_seconds: 300,
  labels: { recognized: "Merge Assist: Recognised for Merge", not_ready: "NR", rejected: "R", ready_to_merge: "RTM", batch_mr: "B" },
  webhook_enabled: true, max_rejections: 3, landing: "merge_api", ai_debug_enabled: false, explain_on_rejection: false,
  updated_at: "2026-11-21T10:00:00Z", updated_by: "ada",
};

function user(id: number, username: string, roles: string[]): User {
  return {
    id, username, display_name: username.toUpperCase(), email: `${username}@example.com`, roles, is_active: true,
    gitlab_user_id: null, has_password: true, created_at: "2026-11-20T10:00:00Z", updated_at: "2026-11-20T10:00:00Z",
  };
}

function adminApi() {
  return fakeApi({
    "GET /api/projects": [project(1, "group/app")],
    "GET /api/projects/1/config": CONFIG,
    "GET /api/users": { items: [user(1, "ada", ["admin"]), user(2, "grace", ["member"])], total: 2, page: 1, per_page: 100 },
    "GET /api/projects/:id/permissions": [],
  });
}

describe("administration: projects", () => {
  it("onboards a project and shows the server's inline error", async () => {
    const api = adminApi();
    api.on("POST /api/projects", answer(422, { detail: "Invalid request: gitlab_project: Value error, give the GitLab project id or its full path, like group/project", code: "invalid" }));
    const { user: person } = renderPage(<AdministrationPage />, { api });
    const form = await screen.findByRole("form", { name: "Onboard a project" });
    const field = within(form).getByLabelText("GitLab project");
    await person.type(field, "justaname");
    await person.click(within(form).getByRole("button", { name: "Onboard" }));
    expect(await within(form).findByText(/give the GitLab project id or its full path/)).toBeInTheDocument();
    expect(field).toHaveAttribute("aria-invalid", "true");
    expect(field).toHaveAccessibleDescription(/give the GitLab project id/);

    api.on("POST /api/projects", answer(201, project(2, "group/new")));
    api.on("GET /api/projects", [project(1, "group/app"), project(2, "group/new")]);
    api.on("GET /api/projects/2/config", { ...CONFIG, project_id: 2 });
    await person.clear(field);
    await person.type(field, "group/new");
    await person.click(within(form).getByRole("button", { name: "Onboard" }));
    expect(await screen.findByText("group/new is onboarded.")).toBeInTheDocument();
    expect(api.callsTo("POST /api/projects")[1]?.body).toEqual({ gitlab_project: "group/new", strategy: "single" });
    const settings = await screen.findByRole("region", { name: "Settings of group/new" });
    expect(await within(settings).findByRole("form", { name: "Project settings" })).toBeInTheDocument();
    expect(api.unanswered).toEqual([]);
  });

  it("saves the settings and marks the fields the server refuses", async () => {
    const api = adminApi();
    api.on("PUT /api/projects/:id/config", answer(422, { detail: "Invalid configuration: batch_size: at most 10 (MERGE_ASSIST_MAX_BATCH_SIZE); target_branches: 'a b' is not a valid branch name.", code: "invalid" }));
    const { user: person } = renderPage(<AdministrationPage />, { api });
    const form = await screen.findByRole("form", { name: "Project settings" });
    const batch = within(form).getByLabelText("Batch size");
    expect(batch).toHaveValue(5);
    await person.clear(batch);
    await person.type(batch, "50");
    await person.selectOptions(within(form).getByLabelText("Strategy"), "batch");
    expect(within(form).getByText(/How many merge requests a batch tests together/)).toBeInTheDocument();
    await person.click(within(form).getByRole("button", { name: "Save settings" }));
    expect(await within(form).findByText("at most 10 (MERGE_ASSIST_MAX_BATCH_SIZE)")).toBeInTheDocument();
    expect(batch).toHaveAttribute("aria-invalid", "true");
    expect(within(form).getByText("'a b' is not a valid branch name")).toBeInTheDocument();
    expect(within(form).getByRole("alert")).toHaveTextContent("Please correct the fields marked below.");

    api.on("PUT /api/projects/:id/config", (request: { body: unknown }) => ({ ...CONFIG, ...(request.body as object), updated_by: "ada" }));
    await person.clear(batch);
    await person.type(batch, "8");
    await person.click(within(form).getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("Settings of group/app saved.")).toBeInTheDocument();
    expect(api.callsTo("PUT /api/projects/1/config")[1]?.body).toMatchObject({ batch_size: 8, strategy: "batch", target_branches: ["main"] });
  });

  it("checks the connection to GitLab and shows each line with how to fix it", async () => {
    const api = adminApi();
    api.on("POST /api/projects/1/check", {
      project: "group/app", bot_username: "merge-bot", ok: false,
      checks: [
        { name: "bot token", status: "ok", sentence: "The bot token belongs to merge-bot.", fix: null },
        { name: "pipelines must succeed", status: "warning", sentence: "“Pipelines must succeed” is off.", fix: "Turn it on in Settings > Merge requests." },
        { name: "test delivery", status: "failing", sentence: "GitLab could not reach http://ma.example/webhook/gitlab: Hook execution failed.", fix: "Make this server reachable from GitLab." },
      ],
    });
    const { user: person } = renderPage(<AdministrationPage />, { api });
    const card = await screen.findByRole("region", { name: "Connection to GitLab" });
    await person.click(within(card).getByRole("button", { name: "Check connection" }));
    const lines = await within(card).findByRole("list", { name: "Connection checks" });
    expect(within(card).getByRole("status")).toHaveTextContent("1 check fails: see how to fix below.");
    expect(within(lines).getAllByRole("listitem")).toHaveLength(3);
    expect(lines).toHaveTextContent("GitLab could not reach http://ma.example/webhook/gitlab");
    expect(lines).toHaveTextContent("How to fix: Make this server reachable from GitLab.");
    expect(lines).not.toHaveTextContent("How to fix: null");
    expect(api.callsTo("POST /api/projects/1/check")).toHaveLength(1);
  });

  it("offers the train strategy and says what the train depth does", async () => {
    const api = adminApi();
    api.on("PUT /api/projects/:id/config", (request: { body: unknown }) => ({ ...CONFIG, ...(request.body as object), updated_by: "ada" }));
    const { user: person } = renderPage(<AdministrationPage />, { api });
    const form = await screen.findByRole("form", { name: "Project settings" });
    // The single strategy builds no batches and no train: no control that would do nothing.
    expect(within(form).queryByLabelText("Train depth")).not.toBeInTheDocument();
    expect(within(form).queryByLabelText("Parallel tests (failed batch)")).not.toBeInTheDocument();
    expect(within(form).getByText(/only caps how many merge requests may carry a raised priority/)).toBeInTheDocument();
    await person.selectOptions(within(form).getByLabelText("Strategy"), "train");
    const depth = within(form).getByLabelText("Train depth");
    expect(within(form).getByText(/how many cars .* run at once at most/)).toBeInTheDocument();
    expect(within(form).queryByLabelText("Parallel tests (failed batch)")).not.toBeInTheDocument();
    await person.clear(depth);
    await person.type(depth, "4");
    await person.click(within(form).getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("Settings of group/app saved.")).toBeInTheDocument();
    expect(api.callsTo("PUT /api/projects/1/config")[0]?.body).toMatchObject({ strategy: "train", train_depth: 4 });
  });

  it("saves the parallel tests of a failed batch and shows the server's refusal", async () => {
    const api = adminApi();
    api.on("PUT /api/projects/:id/config", answer(422, { detail: "Invalid configuration: parallel_tests: Input should be less than or equal to 20.", code: "invalid" }));
    const { user: person } = renderPage(<AdministrationPage />, { api });
    const form = await screen.findByRole("form", { name: "Project settings" });
    await person.selectOptions(within(form).getByLabelText("Strategy"), "batch");
    const parallel = within(form).getByLabelText("Parallel tests (failed batch)");
    expect(parallel).toHaveValue(4);
    await person.clear(parallel);
    await person.type(parallel, "21");
    await person.click(within(form).getByRole("button", { name: "Save settings" }));
    expect(await within(form).findByText("Input should be less than or equal to 20")).toBeInTheDocument();
    expect(parallel).toHaveAttribute("aria-invalid", "true");
    expect(api.callsTo("PUT /api/projects/1/config")[0]?.body).toMatchObject({ parallel_tests: 21 });

    api.on("PUT /api/projects/:id/config", (request: { body: unknown }) => ({ ...CONFIG, ...(request.body as object), updated_by: "ada" }));
    await person.clear(parallel);
    await person.type(parallel, "2");
    await person.click(within(form).getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("Settings of group/app saved.")).toBeInTheDocument();
    expect(api.callsTo("PUT /api/projects/1/config")[1]?.body).toMatchObject({ parallel_tests: 2 });
  });

  it("saves how often a failed pipeline is retried", async () => {
    const api = adminApi();
    api.on("PUT /api/projects/:id/config", (request: { body: unknown }) => ({ ...CONFIG, ...(request.body as object), updated_by: "ada" }));
    const { user: person } = renderPage(<AdministrationPage />, { api });
    const form = await screen.findByRole("form", { name: "Project settings" });
    const retries = within(form).getByLabelText("Pipeline retries");
    expect(retries).toHaveValue(1);
    await person.clear(retries);
    await person.type(retries, "0");
    await person.click(within(form).getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("Settings of group/app saved.")).toBeInTheDocument();
    expect(api.callsTo("PUT /api/projects/1/config")[0]?.body).toMatchObject({ pipeline_retries: 0 });
  });

  it("saves that the queue's landings skip the target's pipeline", async () => {
    const api = adminApi();
    api.on("PUT /api/projects/:id/config", (request: { body: unknown }) => ({ ...CONFIG, ...(request.body as object), updated_by: "ada" }));
    const { user: person } = renderPage(<AdministrationPage />, { api });
    const form = await screen.findByRole("form", { name: "Project settings" });
    const skip = within(form).getByLabelText(/No target pipeline after our landings/);
    expect(skip).not.toBeChecked();
    await person.click(skip);
    await person.click(within(form).getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("Settings of group/app saved.")).toBeInTheDocument();
    expect(api.callsTo("PUT /api/projects/1/config")[0]?.body).toMatchObject({ skip_ci_on_landing: true });
  });

  it("grants and removes a project permission, and deactivates a project", async () => {
    const api = adminApi();
    api.on("PUT /api/projects/:id/permissions", (request: { body: unknown }) => {
      const body = request.body as { can_manage: boolean; can_set_priority: boolean };
      return body.can_manage || body.can_set_priority ? [{ user_id: 2, username: "grace", ...body }] : [];
    });
    api.on("DELETE /api/projects/:id", { ...project(1, "group/app"), is_active: false });
    const { user: person } = renderPage(<AdministrationPage />, { api });
    const card = await screen.findByRole("region", { name: "Permissions on group/app" });
    const form = within(card).getByRole("form", { name: "Grant a permission" });
    await within(form).findByRole("option", { name: "GRACE (grace)" });
    await person.selectOptions(within(form).getByLabelText("Person"), "GRACE (grace)");
    await person.click(within(form).getByRole("button", { name: "Grant" }));
    const table = await within(card).findByRole("table", { name: "Project permissions" });
    expect(within(table).getByRole("row", { name: /grace/ })).toHaveTextContent("gracenoyes");
    expect(api.callsTo("PUT /api/projects/1/permissions")[0]?.body).toEqual({ user_id: 2, can_manage: false, can_set_priority: true });
    await person.click(within(table).getByRole("button", { name: "Remove grace's permissions" }));
    expect(await within(card).findByText(/Nobody has a permission of their own here/)).toBeInTheDocument();

    await person.click(screen.getByRole("button", { name: "Deactivate group/app" }));
    await person.click(screen.getByRole("button", { name: "Yes, deactivate" }));
    expect(await screen.findByText("group/app is deactivated; its history is kept.")).toBeInTheDocument();
    expect(api.callsTo("DELETE /api/projects/1")).toHaveLength(1);
  });

  it("tells people without the role what to do", async () => {
    renderPage(<AdministrationPage />, { api: adminApi(), user: { ...ADA, roles: ["member"] } });
    expect(await screen.findByText("Administration needs the admin or project owner role.")).toBeInTheDocument();
  });
});

describe("administration: users", () => {
  it("lists users, creates one and shows a refused password inline", async () => {
    const api = adminApi();
    api.on("POST /api/users", answer(422, { detail: "Invalid request: password: String should have at least 12 characters", code: "invalid" }));
    const { user: person } = renderPage(<AdministrationPage />, { api });
    await person.click(await screen.findByRole("tab", { name: "Users and roles" }));
    const table = await screen.findByRole("table", { name: "Users" });
    expect(within(table).getByText("Member")).toBeInTheDocument();
    expect(screen.getByText("Showing 2 of 2.")).toBeInTheDocument();

    await person.click(screen.getByRole("button", { name: "Add a user" }));
    const dialog = screen.getByRole("dialog", { name: "Add a user" });
    await person.type(within(dialog).getByLabelText("Username"), "linus");
    await person.type(within(dialog).getByLabelText("Password"), "short");
    await person.click(within(dialog).getByLabelText("Priority manager"));
    await person.click(within(dialog).getByRole("button", { name: "Create user" }));
    expect(await within(dialog).findByText("String should have at least 12 characters")).toBeInTheDocument();
    expect(api.callsTo("POST /api/users")[0]?.body).toEqual({ username: "linus", password: "short", roles: ["member", "priority_manager"] });

    api.on("POST /api/users", answer(201, user(3, "linus", ["member"])));
    await person.type(within(dialog).getByLabelText("Password"), " and longer now");
    await person.click(within(dialog).getByRole("button", { name: "Create user" }));
    expect(await screen.findByText("linus can now sign in.")).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("changes roles and reports a refused deactivation", async () => {
    const api = adminApi();
    api.on("PATCH /api/users/:id", (request: { body: unknown }) => ({ ...user(2, "grace", []), ...(request.body as object) }));
    api.on("POST /api/users/:id/deactivate", answer(409, { detail: "You cannot deactivate the last administrator." }));
    const { user: person } = renderPage(<AdministrationPage />, { api });
    await person.click(await screen.findByRole("tab", { name: "Users and roles" }));
    await person.click(await screen.findByRole("button", { name: "Edit grace" }));
    const dialog = screen.getByRole("dialog", { name: "Edit grace" });
    await person.click(within(dialog).getByLabelText("Viewer"));
    await person.click(within(dialog).getByLabelText("Member"));
    await person.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(api.callsTo("PATCH /api/users/2")).toHaveLength(1));
    expect(api.callsTo("PATCH /api/users/2")[0]?.body).toMatchObject({ roles: ["viewer"], is_active: true });

    await person.click(screen.getByRole("button", { name: "Deactivate ada" }));
    await findAlert("You cannot deactivate the last administrator.");
  });
});

describe("administration: audit log", () => {
  const entry: AuditEntry = {
    id: 1, occurred_at: "2026-11-22T01:00:00Z", actor_id: 1, actor_name: "ada", action: "user.create",
    target_type: "user", target_id: "3", success: true, details: { roles: ["member"] }, prev_hash: "0", entry_hash: "1",
  };

  it("filters entries and exports what the filters match", async () => {
    const api = adminApi();
    api.on("GET /api/audit", { items: [entry], total: 1, limit: 50, offset: 0 });
    api.on("GET /api/audit/export", { text: '{"id":1}\n', status: 200, headers: { "Content-Disposition": 'attachment; filename="audit-x.jsonl"' } });
    const { user: person } = renderPage(<AdministrationPage />, { api });
    const tabs = await screen.findByRole("tablist", { name: "Administration sections" });
    within(tabs).getByRole("tab", { name: "Projects" }).focus();
    await person.keyboard("{End}");
    expect(screen.getByRole("tab", { name: "Audit log" })).toHaveAttribute("aria-selected", "true");
    const table = await screen.findByRole("table", { name: "Audit entries" });
    expect(within(table).getByText("user.create")).toBeInTheDocument();
    expect(screen.getByText("Showing 1–1 of 1")).toBeInTheDocument();

    await person.type(screen.getByLabelText("Action"), "vault.*");
    await person.selectOptions(screen.getByLabelText("Outcome"), "false");
    await person.click(screen.getByRole("button", { name: "Apply filters" }));
    await waitFor(() => expect(api.calls.some((call) => call.query.get("action") === "vault.*" && call.query.get("success") === "false")).toBe(true));

    await person.click(screen.getByRole("button", { name: "Export CSV" }));
    expect(await screen.findByText("Exported audit-x.jsonl.")).toBeInTheDocument();
    const exported = api.callsTo("GET /api/audit/export")[0];
    expect(exported?.query.get("format")).toBe("csv");
    expect(exported?.query.get("action")).toBe("vault.*");
  });

  it("sends local times as UTC instants", () => {
    const params = auditQuery({ actor: " ada ", action: "", target_type: "", target_id: "", success: "", since: "2026-11-22T10:00", until: "" });
    expect(params.get("actor")).toBe("ada");
    expect(params.get("since")).toBe(new Date("2026-11-22T10:00").toISOString());
    expect(params.has("action")).toBe(false);
  });
});
