import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { answer, fakeApi } from "../testing/fakeApi";
import { project, renderPage } from "../testing/renderPage";
import type { Batch, QueueStats } from "./api";
import { QueuePage } from "./QueuePage";
import type { Train, TrainCar, TrainList } from "./train";

const WEB = "https://gitlab.example.com/group/app";
const STATS: QueueStats = {
  window_hours: 24,
  merged_per_hour: [{ hour: "2026-11-22T00:00:00Z", merged: 2 }],
  time_to_merge: { count: 2, median_seconds: 600, p95_seconds: 900 },
  failures_by_reason: [],
};

/** A car's batch operation as its live event carries it. */
function batch(id: number, projectId = 1): Batch {
  return {
    id, project_id: projectId, target_branch: "main", attempt_id: id, run_id: null, probe: false, status: "testing",
    member_iids: [3], landed_iids: [], culprit_iids: [], branch: null, batch_mr_iid: null, batch_mr_url: null,
    base_sha: null, tested_sha: null, pipeline_id: null, pipeline_status: null, landed_sha: null,
    started_at: "2026-11-22T00:00:00Z", finished_at: null,
  };
}

function member(iid: number) {
  return { iid, title: `Change ${iid}`, web_url: `${WEB}/-/merge_requests/${iid}` };
}

function car(position: number, iids: number[], overrides: Partial<TrainCar> = {}): TrainCar {
  const id = 500 + position;
  return {
    attempt_id: 10 + position, position, status: "testing", members: iids.map(member),
    pipeline: { id, status: "running", web_url: `${WEB}/-/pipelines/${id}`, retries: 0 },
    base_sha: "aaaaaaaa", tested_sha: "bbbbbbbb", batch_mr_iid: null, batch_mr_url: null,
    ...overrides,
  };
}

function train(overrides: Partial<Train> = {}): Train {
  return { target_branch: "main", strategy: "train", depth: 3, train_depth: 4, cars: [], probes: [], suspects: [], cleared: [], ...overrides };
}

const RUNNING: TrainList = {
  items: [
    train({
      cars: [
        car(1, [1, 2]),
        car(2, [3], { pipeline: { id: 502, status: "running", web_url: `${WEB}/-/pipelines/502`, retries: 1 } }),
        car(3, [4], { status: "building", pipeline: null, tested_sha: null }),
      ],
      probes: [{ attempt_id: 20, status: "testing", members: [member(6), member(7)], pipeline: { id: 600, status: "failed", web_url: `${WEB}/-/pipelines/600`, retries: 0 }, base_sha: "cccccccc", tested_sha: "dddddddd" }],
      suspects: [{ members: [{ iid: 8, title: null, web_url: null }] }],
      cleared: [{ members: [member(9)] }],
    }),
  ],
};

function trainApi(trains: TrainList) {
  return fakeApi({
    "GET /api/projects": [project(1, "group/app")],
    "GET /api/projects/1/mrs": { items: [], total: 0, target_branches: ["main"], can_set_priority: false, priority_cap: 5 },
    "GET /api/projects/1/batches": { items: [] },
    "GET /api/projects/1/stats": STATS,
    "GET /api/projects/1/config": { labels: { recognized: "Queue me" } },
    "GET /api/projects/1/train": trains,
  });
}

describe("the queue page's train", () => {
  it("shows the cars head first with members, pipelines and retries, and the probes beside them", async () => {
    const api = trainApi(RUNNING);
    renderPage(<QueuePage />, { api });
    const panel = await screen.findByRole("region", { name: "Train" });
    expect(within(panel).getByText("→ main · depth 3 of 4 cars · 3 running")).toBeInTheDocument();
    const cars = within(panel).getAllByRole("listitem").filter((item) => item.getAttribute("aria-label")?.startsWith("Car "));
    expect(cars.map((item) => item.getAttribute("aria-label"))).toEqual(["Car 1 (head)", "Car 2", "Car 3"]);
    const head = within(panel).getByRole("listitem", { name: "Car 1 (head)" });
    expect(within(head).getByRole("link", { name: "!1 Change 1" })).toHaveAttribute("href", `${WEB}/-/merge_requests/1`);
    expect(within(head).getByRole("link", { name: "!2 Change 2" })).toBeInTheDocument();
    expect(within(head).getByRole("link", { name: "Pipeline of car 1 (head): running" })).toHaveAttribute("href", `${WEB}/-/pipelines/501`);
    expect(head).toHaveTextContent("tests bbbbbbbb on aaaaaaaa");
    expect(within(panel).getByRole("listitem", { name: "Car 2" })).toHaveTextContent("retried once");
    const third = within(panel).getByRole("listitem", { name: "Car 3" });
    expect(third).toHaveTextContent("building");
    expect(third).toHaveTextContent("no pipeline yet");
    const probes = within(panel).getByRole("complementary", { name: "Probes beside the train to main" });
    expect(probes).toHaveTextContent("finding out: !6 !7");
    expect(within(probes).getByRole("link", { name: "Pipeline of the probe of !6 !7: failed" })).toHaveAttribute("href", `${WEB}/-/pipelines/600`);
    expect(panel).toHaveTextContent("Suspects waiting for a probe: !8");
    expect(panel).toHaveTextContent("Cleared, waiting for a car of their own: !9");
    // The rest of the page keeps working beside it.
    expect(await screen.findByRole("img", { name: "2 merged in the last 24 hours; at most 2 in one hour" })).toBeInTheDocument();
    expect(api.unanswered).toEqual([]);
  });

  it("shows an empty train of the train strategy, and no panel when the project runs none", async () => {
    const api = trainApi({ items: [train({ depth: 4 })] });
    const { unmount } = renderPage(<QueuePage />, { api });
    const panel = await screen.findByRole("region", { name: "Train" });
    expect(panel).toHaveTextContent("depth 4 of 4 cars · 0 running");
    expect(panel).toHaveTextContent("No car is running: ready merge requests board the next one.");
    unmount();

    const none = trainApi({ items: [] });
    renderPage(<QueuePage />, { api: none });
    expect(await screen.findByRole("region", { name: "Batches" })).toBeInTheDocument();
    await waitFor(() => expect(none.callsTo("GET /api/projects/1/train")).toHaveLength(1));
    expect(screen.queryByRole("region", { name: "Train" })).toBeNull();
  });

  it("reads the train again after live batch events of its project", async () => {
    const api = trainApi(RUNNING);
    const { live } = renderPage(<QueuePage />, { api });
    const panel = await screen.findByRole("region", { name: "Train" });
    await within(panel).findByRole("listitem", { name: "Car 3" });
    const reads = api.callsTo("GET /api/projects/1/train").length;

    live.emit({ type: "batch.updated", project_id: 2, batch: batch(1, 2) });
    // The head landed: the next car is the head, without a new pipeline.
    api.on("GET /api/projects/1/train", { items: [train({ cars: [car(1, [3]), car(2, [4])] })] });
    live.emit({ type: "batch.updated", project_id: 1, batch: batch(11) });
    live.emit({ type: "batch.updated", project_id: 1, batch: batch(12) });
    const head = await within(panel).findByRole("listitem", { name: "Car 1 (head)" });
    await waitFor(() => expect(within(head).getByRole("link", { name: "!3 Change 3" })).toBeInTheDocument());
    expect(within(panel).queryByRole("listitem", { name: "Car 3" })).toBeNull();
    // One read for the burst of the project's events, none for another project's.
    expect(api.callsTo("GET /api/projects/1/train")).toHaveLength(reads + 1);
  });

  it("offers to try again when the train cannot be read", async () => {
    const api = trainApi(RUNNING);
    api.on("GET /api/projects/1/train", answer(503, { detail: "The database is not reachable right now." }));
    const { user } = renderPage(<QueuePage />, { api });
    const panel = await screen.findByRole("region", { name: "Train" });
    expect(await within(panel).findByText("The database is not reachable right now.")).toBeInTheDocument();
    api.on("GET /api/projects/1/train", RUNNING);
    await user.click(within(panel).getByRole("button", { name: "Try again" }));
    expect(await within(panel).findByRole("listitem", { name: "Car 1 (head)" })).toBeInTheDocument();
  });
});
