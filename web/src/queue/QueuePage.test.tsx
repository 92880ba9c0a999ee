import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { answer, fakeApi } from "../testing/fakeApi";
import { project, renderPage } from "../testing/renderPage";
import type { Batch, MergeRequest, QueueStats } from "./api";
import type { Explanation } from "./explanation";
import { PROJECT_STORAGE_KEY } from "../projects/ProjectContext";
import { QueuePage } from "./QueuePage";

const RECOGNISED = new Date(Date.now() - 2 * 3600_000).toISOString();

function mr(id: number, state: MergeRequest["queue_state"], overrides: Partial<MergeRequest> = {}): MergeRequest {
  return {
    id, project_id: 1, iid: 10 + id, target_branch: "main", source_branch: `feature-${id}`, title: `Change ${id}`,
    author_username: "grace", web_url: `https://gitlab.example.com/g/p/-/merge_requests/${10 + id}`,
    queue_state: state, priority: 0, strikes: 0, head_sha: "abc", pipeline_status: "success",
    pipeline_url: `https://gitlab.example.com/g/p/-/pipelines/${id}`, reasons: [], batch_id: null,
    recognised_at: RECOGNISED, merged_at: null, rejected_at: null, updated_at: RECOGNISED, position: null,
    ...overrides,
  };
}

const STATS: QueueStats = {
  window_hours: 24,
  merged_per_hour: [{ hour: "2026-11-22T00:00:00Z", merged: 3 }, { hour: "2026-11-22T01:00:00Z", merged: 1 }],
  time_to_merge: { count: 4, median_seconds: 1500, p95_seconds: 7200 },
  failures_by_reason: [
    { reason: "Pipeline failed", kind: "pipeline_failed", count: 2, messages: [{ message: "pipeline #10 failed for 0b5c1cf3", count: 1 }, { message: "pipeline #12 failed for 9a8b7c6d", count: 1 }] },
    { reason: "Conflict", kind: "conflict", count: 1, messages: [{ message: "rebasing onto `main` failed with conflicts", count: 1 }] },
  ],
};

const BATCH: Batch = {
  id: 3, project_id: 1, target_branch: "main", attempt_id: 1, run_id: null, probe: false, status: "testing",
  member_iids: [11, 12], landed_iids: [], culprit_iids: [], branch: "merge-assist/batch-3", batch_mr_iid: 40,
  batch_mr_url: "https://gitlab.example.com/g/p/-/merge_requests/40", base_sha: null, tested_sha: null,
  pipeline_id: 9, pipeline_status: "running", landed_sha: null, started_at: RECOGNISED, finished_at: null,
};

function queueApi(items: MergeRequest[], canSetPriority = true, branches = ["main"]) {
  return fakeApi({
    "GET /api/projects": [project(1, "group/app")],
    "GET /api/projects/1/mrs": { items, total: items.length, target_branches: branches, can_set_priority: canSetPriority, priority_cap: 5 },
    "GET /api/projects/1/batches": { items: [BATCH] },
    "GET /api/projects/1/stats": STATS,
    "GET /api/projects/1/train": { items: [] },
  });
}

describe("the merge queue page", () => {
  it("groups merge requests by state with their details and failure reasons", async () => {
    const api = queueApi([
      mr(1, "ready", { position: 1, priority: 2 }),
      mr(2, "not_ready", { reasons: ["The pipeline failed.", "Needs one more approval."], strikes: 1, pipeline_status: "failed" }),
      mr(3, "merged", { merged_at: new Date(Date.parse(RECOGNISED) + 1800_000).toISOString() }),
    ]);
    renderPage(<QueuePage />, { api });
    const ready = await screen.findByRole("region", { name: "Ready to merge (1)" });
    const link = within(ready).getByRole("link", { name: "!11 Change 1" });
    expect(link).toHaveAttribute("href", "https://gitlab.example.com/g/p/-/merge_requests/11");
    expect(within(ready).getByRole("link", { name: "Pipeline of !11: success" })).toBeInTheDocument();
    expect(within(ready).getByText("2 h")).toBeInTheDocument();
    const notReady = screen.getByRole("region", { name: "Not ready (1)" });
    expect(within(notReady).getByRole("list", { name: "Reasons for !12" })).toHaveTextContent("The pipeline failed.Needs one more approval.");
    expect(within(screen.getByRole("region", { name: "Merged (1)" })).getByText("30 min")).toBeInTheDocument();
    expect(screen.getByRole("region", { name: "Rejected (0)" })).toHaveTextContent("Nothing was rejected.");
    expect(api.unanswered).toEqual([]);
  });

  it("shows batches and the day's charts", async () => {
    renderPage(<QueuePage />, { api: queueApi([mr(1, "in_batch", { batch_id: 3 })]) });
    const batches = await screen.findByRole("region", { name: "Batches" });
    expect(await within(batches).findByRole("link", { name: "#3" })).toHaveAttribute("href", BATCH.batch_mr_url);
    expect(within(batches).getByText("!11, !12")).toBeInTheDocument();
    expect(await screen.findByRole("img", { name: "4 merged in the last 24 hours; at most 3 in one hour" })).toBeInTheDocument();
    const timeToMerge = screen.getByRole("region", { name: "Time to merge" });
    expect(within(timeToMerge).getByText("25 min")).toBeInTheDocument();
    expect(within(timeToMerge).getByText("2 h")).toBeInTheDocument();
    const failures = screen.getByRole("region", { name: "Failures by reason" });
    expect(failures).toHaveTextContent("Pipeline failed2Conflict1");
    expect(failures).not.toHaveTextContent("#10"); // raw messages only on hover
    const failed = within(failures).getByText("Pipeline failed").closest("li");
    expect(failed).toHaveAttribute("title", "pipeline #10 failed for 0b5c1cf3\npipeline #12 failed for 9a8b7c6d");
    expect(failed).toHaveAccessibleDescription(/pipeline #10 failed for 0b5c1cf3; pipeline #12/);
  });

  it("raises a priority with a button and with Alt+Up, and lowers with Alt+Down", async () => {
    const api = queueApi([mr(1, "ready", { position: 1, priority: 1 }), mr(2, "ready", { position: 2 })]);
    api.on("POST /api/mrs/:id/priority", (request: { body: unknown }) => mr(2, "ready", request.body as Partial<MergeRequest>));
    const { user } = renderPage(<QueuePage />, { api });
    await user.click(await screen.findByRole("button", { name: "Raise priority of !12" }));
    await waitFor(() => expect(api.callsTo("POST /api/mrs/2/priority")).toHaveLength(1));
    expect(api.callsTo("POST /api/mrs/2/priority")[0]?.body).toEqual({ priority: 2 });
    expect(await screen.findByText("!12 now has priority 2.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Raise priority of !11" })).toBeEnabled();

    const first = screen.getByRole("row", { name: /!11 Change 1, place 1/ });
    first.focus();
    await user.keyboard("{Alt>}{ArrowDown}{/Alt}");
    await waitFor(() => expect(api.callsTo("POST /api/mrs/1/priority")).toHaveLength(1));
    expect(api.callsTo("POST /api/mrs/1/priority")[0]?.body).toEqual({ priority: 0 });
  });

  it("shows a refusal as a toast", async () => {
    const api = queueApi([mr(1, "ready", { position: 1 }), mr(2, "ready", { position: 2 })]);
    api.on("POST /api/mrs/:id/priority", answer(409, { detail: "Only 5 merge requests may hold a raised priority at once; lower another first." }));
    const { user } = renderPage(<QueuePage />, { api });
    await user.click(await screen.findByRole("button", { name: "Raise priority of !12" }));
    expect(await screen.findByRole("alert", { name: "Errors" })).toHaveTextContent("Only 5 merge requests may hold a raised priority at once");
  });

  it("is read-only without the priority permission", async () => {
    renderPage(<QueuePage />, { api: queueApi([mr(1, "ready", { position: 1 })], false) });
    expect(await screen.findByText(/Read-only: changing priorities needs/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Raise priority/ })).toBeNull();
  });

  it("applies live updates and filters by target branch", async () => {
    const api = queueApi([mr(1, "ready", { position: 1 })], true, ["main", "release"]);
    const { live, user } = renderPage(<QueuePage />, { api });
    await screen.findByRole("region", { name: "Ready to merge (1)" });
    live.emit({ type: "mr.updated", project_id: 1, mr: mr(1, "merging") });
    expect(screen.getByRole("region", { name: "Merging (1)" })).toHaveTextContent("!11 Change 1");
    live.emit({ type: "mr.updated", project_id: 2, mr: mr(9, "ready") });
    expect(screen.queryByText("!19 Change 9")).toBeNull();
    live.emit({ type: "batch.updated", project_id: 1, batch: { ...BATCH, id: 4, status: "landed" } });
    expect(within(screen.getByRole("region", { name: "Batches" })).getByText("landed")).toBeInTheDocument();
    // Once the events stop, the list is read again for fresh places in line.
    await waitFor(() => expect(api.callsTo("GET /api/projects/1/mrs")).toHaveLength(2), { timeout: 4000 });

    await user.selectOptions(screen.getByLabelText("Target branch"), "release");
    await waitFor(() => expect(api.calls.some((call) => call.query.get("target_branch") === "release")).toBe(true));
  });

  it("shows one merge request's history in a dialog", async () => {
    const api = queueApi([mr(5, "rejected", { reasons: ["Rejected after 3 strikes."] })]);
    api.on("GET /api/mrs/:id", {
      ...mr(5, "rejected"),
      history: [
        { id: 1, target_branch: "main", event: "recognised", iids: [15], details: {}, created_at: RECOGNISED },
        { id: 2, target_branch: "main", event: "struck", iids: [15], details: { reason: "The pipeline failed." }, created_at: RECOGNISED },
        { id: 3, target_branch: "main", event: "batch_failed", iids: [15, 16], details: {}, created_at: RECOGNISED },
      ],
    });
    const { user } = renderPage(<QueuePage />, { api });
    await user.click(await screen.findByRole("button", { name: "History of !15" }));
    const dialog = screen.getByRole("dialog", { name: "!15 Change 5" });
    const history = await within(dialog).findByRole("list", { name: "Queue history" });
    expect(within(history).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      expect.stringContaining("recognised"),
      expect.stringContaining("struckThe pipeline failed."),
      expect.stringContaining("batch failedwith !16"),
    ]);
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("explains why a merge request is not merging, from its row and from its history", async () => {
    const api = queueApi([mr(5, "rejected", { strikes: 2, reasons: ["pipeline #9 failed for abc"] })]);
    const explanation: Explanation = {
      mr_id: 5, project_id: 1, reference: "group/app!15", title: "Change 5", web_url: null, queue_state: "rejected",
      summary: "The queue rejected it after too many failed attempts and let it go.", since: RECOGNISED, waiting_for: [],
      reasons: [{ code: "pipeline_failed", text: "The pipeline of its latest commit failed.", detail: "pipeline #9 failed for abc", waiting: false, held: false, fix: "Fix what the failing jobs report and push.", source: "queue" }],
      strikes: 2, max_strikes: 2,
      strike_history: [{ at: RECOGNISED, cause: "batch_failed", text: "the batch's pipeline failed because of it (found by bisection)", strikes: 2 }],
      batch: { id: 3, status: "failed", members: [15, 16], landed: [16], culprits: [15], is_culprit: true, pipeline_id: 9, pipeline_status: "failed", batch_mr_url: null, started_at: RECOGNISED, finished_at: null },
      failing_jobs: [{ id: 77, name: "test", stage: "test", web_url: "https://gitlab.example.com/g/p/-/jobs/77", failure_reason: "script_failure", excerpt: ["E       AssertionError: boom", "ERROR: Job failed: exit code 1"] }],
      next_step: "Its changes broke the batch pipeline: run the pipeline on your branch, fix what fails and push, then assign the bot again to queue it anew.",
      notes: [],
    };
    api.on("GET /api/mrs/:id/explanation", explanation);
    api.on("GET /api/mrs/:id", { ...mr(5, "rejected"), history: [] });
    const { user } = renderPage(<QueuePage />, { api });
    await user.click(await screen.findByRole("button", { name: "Explain !15" }));
    const dialog = screen.getByRole("dialog", { name: "Why isn't !15 merging?" });
    expect(await within(dialog).findByRole("region", { name: "Next step" })).toHaveTextContent(/Its changes broke the batch pipeline/);
    expect(within(dialog).getByRole("region", { name: "Reasons" })).toHaveTextContent("The pipeline of its latest commit failed. (pipeline #9 failed for abc)");
    expect(within(dialog).getByRole("region", { name: "Strikes" })).toHaveTextContent(/Strikes: 2 of 2.*found by bisection/);
    expect(within(dialog).getByRole("region", { name: "Batch" })).toHaveTextContent("With !15, !16. The bisection found this merge request to be the culprit.");
    const job = within(dialog).getByRole("region", { name: "Failed job test" });
    expect(within(job).getByRole("link", { name: "test" })).toHaveAttribute("href", "https://gitlab.example.com/g/p/-/jobs/77");
    // The log lines as they are, spaces and line breaks kept.
    expect(job.querySelector("pre")?.textContent).toBe("E       AssertionError: boom\nERROR: Job failed: exit code 1");
    expect(api.callsTo("GET /api/mrs/5/explanation")).toHaveLength(1);
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();

    await user.click(screen.getByRole("button", { name: "History of !15" }));
    await user.click(within(screen.getByRole("dialog", { name: "!15 Change 5" })).getByRole("button", { name: "Explain why it is not merging" }));
    expect(await screen.findByRole("dialog", { name: "Why isn't !15 merging?" })).toBeInTheDocument();
    expect(screen.getAllByRole("dialog")).toHaveLength(1);
  });

  it("shows the AI summary marked as AI-generated, or why there is none", async () => {
    const api = queueApi([mr(5, "rejected", { strikes: 2 })]);
    const plain: Explanation = {
      mr_id: 5, project_id: 1, reference: "group/app!15", title: "Change 5", web_url: null, queue_state: "rejected",
      summary: "Rejected.", since: null, waiting_for: [], reasons: [], strikes: 2, max_strikes: 2, strike_history: [], batch: null,
      failing_jobs: [], next_step: "Fix the tests and push.", notes: [],
    };
    api.on("GET /api/mrs/:id/explanation", { ...plain, ai_summary: { outcome: "ok", text: "The tests fail on a rounding change.", model: "llama3.1:8b", note: null } });
    const { user } = renderPage(<QueuePage />, { api });
    await user.click(await screen.findByRole("button", { name: "Explain !15" }));
    const dialog = screen.getByRole("dialog", { name: "Why isn't !15 merging?" });
    const summary = await within(dialog).findByRole("region", { name: "AI summary" });
    expect(summary).toHaveTextContent("AI-generated");
    expect(summary).toHaveTextContent("The tests fail on a rounding change.");
    expect(summary).toHaveTextContent("Advisory, by llama3.1:8b");
    expect(within(dialog).getByRole("region", { name: "Next step" })).toHaveTextContent("Fix the tests and push.");
    await user.keyboard("{Escape}");

    api.on("GET /api/mrs/:id/explanation", { ...plain, ai_summary: { outcome: "timeout", text: null, model: "llama3.1:8b", note: "No AI summary: The AI endpoint did not answer within 20 s." } });
    await user.click(screen.getByRole("button", { name: "Explain !15" }));
    const again = screen.getByRole("dialog", { name: "Why isn't !15 merging?" });
    expect(await within(again).findByText("No AI summary: The AI endpoint did not answer within 20 s.")).toBeInTheDocument();
    expect(within(again).queryByRole("region", { name: "AI summary" })).toBeNull();
    expect(within(again).getByRole("region", { name: "Next step" })).toHaveTextContent("Fix the tests and push.");
    await user.keyboard("{Escape}");

    api.on("GET /api/mrs/:id/explanation", { ...plain, ai_summary: { outcome: "not_opted_in", text: null, model: null, note: "No AI summary: this project has not opted in." } });
    await user.click(screen.getByRole("button", { name: "Explain !15" }));
    const quiet = screen.getByRole("dialog", { name: "Why isn't !15 merging?" });
    expect(await within(quiet).findByRole("region", { name: "Next step" })).toBeInTheDocument();
    expect(within(quiet).queryByText(/No AI summary/)).toBeNull();
  });

  it("offers to try again when the explanation cannot be loaded", async () => {
    const api = queueApi([mr(5, "not_ready")]);
    api.on("GET /api/mrs/:id/explanation", answer(404, { detail: "There is no merge request with id 5." }));
    const { user } = renderPage(<QueuePage />, { api });
    await user.click(await screen.findByRole("button", { name: "Explain !15" }));
    const dialog = screen.getByRole("dialog", { name: "Why isn't !15 merging?" });
    expect(await within(dialog).findByText("There is no merge request with id 5.")).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });

  it("says what to do when there is no project or the queue fails", async () => {
    renderPage(<QueuePage />, { api: fakeApi({ "GET /api/projects": [] }) });
    expect(await screen.findByText("No projects yet.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Administration" })).toHaveAttribute("href", "/admin");
  });

  it("offers to try again when the queue cannot be loaded", async () => {
    const api = queueApi([]);
    api.on("GET /api/projects/1/mrs", answer(503, { detail: "GitLab is not reachable right now." }));
    const { user } = renderPage(<QueuePage />, { api });
    expect(await screen.findByText("GitLab is not reachable right now.")).toBeInTheDocument();
    api.on("GET /api/projects/1/mrs", { items: [], total: 0, target_branches: ["main"], can_set_priority: false, priority_cap: 5 });
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("No merge requests are queued yet.")).toBeInTheDocument();
    expect(await screen.findByText(/assign a merge request to the bot user .* or request the bot’s review/)).toBeInTheDocument();
    expect(screen.queryByText(/Add the label/)).not.toBeInTheDocument();
  });

  it("opens the busiest queue until someone chooses, then the project chosen last", async () => {
    const list = (items: MergeRequest[]) => ({ items, total: items.length, target_branches: ["main"], can_set_priority: false, priority_cap: 5 });
    const api = fakeApi({
      "GET /api/projects": [project(1, "demo/cam-programs"), project(2, "demo/widgets")],
      "GET /api/queue/activity": [
        { project_id: 2, queued: 10, last_activity_at: RECOGNISED },
        { project_id: 1, queued: 0, last_activity_at: null },
      ],
      "GET /api/projects/:id/mrs": (request: { params: Record<string, string> }) => (request.params.id === "2" ? list([mr(1, "ready", { project_id: 2, position: 1 })]) : list([])),
      "GET /api/projects/:id/batches": { items: [] },
      "GET /api/projects/:id/stats": STATS,
    });
    const first = renderPage(<QueuePage />, { api });
    expect(await screen.findByRole("link", { name: "demo/widgets on GitLab" })).toBeInTheDocument();
    expect(await screen.findByRole("region", { name: "Ready to merge (1)" })).toBeInTheDocument();
    expect(api.callsTo("GET /api/projects/1/mrs")).toHaveLength(0); // never the empty one first
    first.unmount();

    localStorage.setItem(PROJECT_STORAGE_KEY, "1"); // what the header's selector stores
    const before = api.callsTo("GET /api/queue/activity").length;
    renderPage(<QueuePage />, { api });
    expect(await screen.findByRole("link", { name: "demo/cam-programs on GitLab" })).toBeInTheDocument();
    expect(await screen.findByText("No merge requests are queued yet.")).toBeInTheDocument();
    expect(api.callsTo("GET /api/queue/activity")).toHaveLength(before);
  });
});
