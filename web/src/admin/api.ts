/** The shapes administration reads and writes (projects, users, audit). */

export interface ProjectConfig {
  project_id: number;
  target_branches: string[];
  strategy: string;
  batch_size: number;
  train_depth: number;
  parallel_tests: number;
  pipeline_retries: number;
  skip_ci_on_landing: boolean;
  polling_interval_seconds: number;
  labels: Record<string, string>;
  webhook_enabled: boolean;
  max_rejections: number;
  landing: string;
  ai_debug_enabled: boolean;
  explain_on_rejection: boolean;
  updated_at: string;
  updated_by: string | null;
}

export const STRATEGIES = ["single", "batch", "train"] as const;
export const LANDINGS = [
  { value: "merge_api", label: "GitLab merge API (sha-pinned)" },
  { value: "push", label: "Push the tested commit" },
] as const;
export const LABEL_KEYS: { key: string; label: string }[] = [
  { key: "recognized", label: "Recognised for merge" },
  { key: "not_ready", label: "Not ready" },
  { key: "rejected", label: "Rejected" },
  { key: "ready_to_merge", label: "Ready to merge" },
  { key: "batch_mr", label: "Batch merge request" },
];

export interface User {
  id: number;
  username: string;
  display_name: string;
  email: string | null;
  roles: string[];
  is_active: boolean;
  gitlab_user_id: number | null;
  has_password: boolean;
  created_at: string;
  updated_at: string;
}

export interface UserPage {
  items: User[];
  total: number;
  page: number;
  per_page: number;
}

export const ROLES = ["admin", "project_owner", "priority_manager", "member", "viewer"] as const;
export const ROLE_LABEL: Record<string, string> = {
  admin: "Administrator",
  project_owner: "Project owner",
  priority_manager: "Priority manager",
  member: "Member",
  viewer: "Viewer",
};

export interface AuditEntry {
  id: number;
  occurred_at: string;
  actor_id: number | null;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  success: boolean;
  details: Record<string, unknown>;
  prev_hash: string;
  entry_hash: string;
}

export interface AuditPage {
  items: AuditEntry[];
  total: number;
  limit: number;
  offset: number;
}

/** `GET/PUT /api/assistant/settings`: the AI summary's endpoint, model, what may leave, limits. */
export interface AssistantSettings {
  enabled: boolean;
  base_url: string;
  model: string;
  api_key_set: boolean;
  api_key_writable: boolean;
  send_titles: boolean;
  send_file_names: boolean;
  send_log_excerpts: boolean;
  timeout_seconds: number;
  max_request_chars: number;
  daily_call_limit: number | null;
  daily_token_limit: number | null;
  usage_today: { calls: number; tokens: number };
  updated_at: string | null;
  updated_by: string | null;
}
