/** The shape of `GET /api/mrs/{id}/explanation` (src/merge_assist/assistant/schemas.py). */

export interface ExplainedReason {
  code: string;
  text: string;
  detail: string;
  waiting: boolean;
  held: boolean;
  fix: string;
  source: "queue" | "gitlab";
}

export interface ExplainedStrike {
  at: string;
  cause: string;
  text: string;
  strikes: number | null;
}

export interface ExplainedBatch {
  id: number;
  status: string;
  members: number[];
  landed: number[];
  culprits: number[];
  is_culprit: boolean;
  pipeline_id: number | null;
  pipeline_status: string | null;
  batch_mr_url: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface FailingJob {
  id: number;
  name: string;
  stage: string | null;
  web_url: string | null;
  failure_reason: string | null;
  excerpt: string[];
}

export interface Explanation {
  mr_id: number;
  project_id: number;
  reference: string;
  title: string;
  web_url: string | null;
  queue_state: string;
  summary: string;
  since: string | null;
  waiting_for: string[];
  reasons: ExplainedReason[];
  strikes: number;
  max_strikes: number;
  strike_history: ExplainedStrike[];
  batch: ExplainedBatch | null;
  failing_jobs: FailingJob[];
  next_step: string;
  notes: string[];
  /** The AI's advisory summary, or why there is none; absent when not asked. */
  ai_summary?: AiSummary | null;
}

export interface AiSummary {
  outcome: "ok" | "disabled" | "not_opted_in" | "budget_exhausted" | "timeout" | "refused" | "failed" | "bad_answer" | "unreachable";
  text: string | null;
  model: string | null;
  note: string | null;
}
