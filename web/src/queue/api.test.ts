import { describe, expect, it } from "vitest";
import { type MergeRequest, priorityToMove, upsert } from "./api";

function mr(id: number, priority: number, branch = "main"): MergeRequest {
  return {
    id, project_id: 1, iid: id, target_branch: branch, source_branch: null, title: `MR ${id}`,
    author_username: null, web_url: null, queue_state: "ready", priority, strikes: 0, head_sha: null,
    pipeline_status: null, pipeline_url: null, reasons: [], batch_id: null, recognised_at: null,
    merged_at: null, rejected_at: null, updated_at: "2026-11-22T00:00:00Z", position: null,
  };
}

describe("priorityToMove", () => {
  const ordered = [mr(1, 3), mr(2, 0), mr(3, 0)];

  it("passes the neighbour above with one more than its priority", () => {
    expect(priorityToMove(ordered, ordered[1]!, -1)).toBe(4);
    expect(priorityToMove(ordered, ordered[2]!, -1)).toBe(1);
  });

  it("raises the head by one, and not past the maximum", () => {
    expect(priorityToMove(ordered, ordered[0]!, -1)).toBe(4);
    expect(priorityToMove([mr(9, 100)], mr(9, 100), -1)).toBeNull();
  });

  it("drops below the neighbour, never under zero", () => {
    expect(priorityToMove(ordered, ordered[0]!, 1)).toBe(0);
    expect(priorityToMove(ordered, ordered[1]!, 1)).toBeNull();
    expect(priorityToMove([mr(4, 2)], mr(4, 2), 1)).toBe(1);
  });
});

describe("upsert", () => {
  it("replaces an MR and drops one that moved to another branch", () => {
    const items = [mr(1, 0), mr(2, 0)];
    expect(upsert(items, { ...mr(1, 5) }, "main").find((item) => item.id === 1)?.priority).toBe(5);
    expect(upsert(items, mr(2, 0, "release"), "main").map((item) => item.id)).toEqual([1]);
    expect(upsert(items, mr(3, 0, "release"), null)).toHaveLength(3);
  });
});
