/**
 * What the server tells the dashboard before anyone signs in. Read from `GET /api/config`
 * when the server has it; without it every optional piece (the GitLab token link) stays hidden.
 */
import type { ApiClient } from "./api/client";

export interface ServerConfig {
  /** The GitLab the server works with, for the "create a token" link; null hides it. */
  gitlabUrl: string | null;
}

export const DEFAULT_SERVER_CONFIG: ServerConfig = { gitlabUrl: null };

export async function loadServerConfig(api: ApiClient): Promise<ServerConfig> {
  try {
    const body = await api.get<{ gitlab_url?: unknown }>("/api/config", { anonymous: true });
    const gitlabUrl = typeof body?.gitlab_url === "string" && body.gitlab_url ? body.gitlab_url : null;
    return { gitlabUrl };
  } catch {
    return DEFAULT_SERVER_CONFIG;
  }
}
