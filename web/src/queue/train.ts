/** The shapes of `GET /api/projects/{id}/train` (src/merge_assist/merging/schemas.py) and its reading. */
import type { ApiClient } from "../api/client";

export interface TrainMember {
  iid: number;
  title: string | null;
  web_url: string | null;
}

export interface TrainPipeline {
  id: number;
  /** As last seen; null until the queue saw it. */
  status: string | null;
  web_url: string | null;
  /** How often the queue retried it after a failure. */
  retries: number;
}

/** A probe: suspects tested on top of the cars, never landed. */
export interface TrainAttempt {
  attempt_id: number;
  status: "building" | "testing" | "landing" | "done" | "aborted";
  members: TrainMember[];
  pipeline: TrainPipeline | null;
  base_sha: string;
  tested_sha: string | null;
}

/** A car: position 1 is the head, the next to land. */
export interface TrainCar extends TrainAttempt {
  position: number;
  batch_mr_iid: number | null;
  batch_mr_url: string | null;
}

export interface TrainGroup {
  members: TrainMember[];
}

/** One target branch's train. */
export interface Train {
  target_branch: string;
  strategy: string;
  /** Cars that may run at once now (adaptive, at most `train_depth`). */
  depth: number;
  train_depth: number;
  cars: TrainCar[];
  probes: TrainAttempt[];
  /** Members of failed cars waiting for a probe. */
  suspects: TrainGroup[];
  /** Groups whose probe passed, waiting for a car of their own. */
  cleared: TrainGroup[];
}

/** Empty when the project runs no train. */
export interface TrainList {
  items: Train[];
}

export function readTrains(api: ApiClient, projectId: number): Promise<TrainList> {
  return api.get<TrainList>(`/api/projects/${projectId}/train`);
}

/** The trains to show: the chosen branch's, or every one. */
export function trainsShown(list: TrainList, branch: string | null): Train[] {
  return branch === null ? list.items : list.items.filter((train) => train.target_branch === branch);
}

/** "!6 !7": the members of a group, as the train shows them in a line. */
export function iidsOf(members: TrainMember[]): string {
  return members.map((member) => `!${member.iid}`).join(" ");
}

/** "retried once", "retried 2 times", or nothing. */
export function retriesText(retries: number): string {
  if (retries <= 0) return "";
  return retries === 1 ? "retried once" : `retried ${retries} times`;
}
