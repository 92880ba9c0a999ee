/** The shapes of `/api/vault` (src/merge_assist/vault/schemas.py). */

export interface VaultInfo {
  id: number;
  name: string;
  backend: "local" | "gitlab";
  project_id: number | null;
  folder: string;
  branch: string;
  is_default: boolean;
  /** How many files the vault holds (servers before this field: absent). */
  file_count?: number;
}

export interface Lock {
  holder: { id: number; username: string; display_name: string };
  since: string;
  age_seconds: number;
  reason: string;
  base_version: string;
}

export interface VaultFile {
  id: number;
  vault_id: number;
  path: string;
  name: string;
  size: number;
  current_version: string;
  content_sha256: string;
  updated_at: string;
  updated_by: string | null;
  status: "available" | "checked_out";
  checked_out_by_me: boolean;
  lock: Lock | null;
}

export interface FilePage {
  items: VaultFile[];
  total: number;
  vault_total: number;
  limit: number;
  offset: number;
}

export interface Version {
  id: string;
  author_name: string;
  author_email: string;
  message: string;
  date: string;
  size: number;
  content_sha256: string;
}

export interface CheckInResult {
  file: VaultFile;
  version: Version | null;
  changed: boolean;
  released: boolean;
}

export interface VersionDiff {
  kind: "text" | "binary" | "too_large";
  from_version: Version;
  to_version: Version;
  identical: boolean;
  unified: string | null;
  changes: { field: string; old: string | number; new: string | number; changed: boolean }[];
}

export type StatusFilter = "" | "available" | "checked_out" | "mine";
export type SortKey = "name" | "size" | "status" | "modified";

export const MAX_REASON = 500;

/** The vault to use when the server lists none yet (the embedded local one). */
export const DEFAULT_VAULT = "default";

export function filesPath(vault: string, fileId?: number, action?: string): string {
  const base = `/api/vault/${encodeURIComponent(vault)}/files`;
  if (fileId === undefined) return base;
  return action ? `${base}/${fileId}/${action}` : `${base}/${fileId}`;
}
