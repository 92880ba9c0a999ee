/** Render one page inside the providers the shell gives it, against a fake API. */
import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router";
import type { CurrentUser } from "../api/auth";
import { AuthProvider } from "../auth/AuthContext";
import { ToastProvider } from "../components/Toasts";
import { LiveProvider } from "../live/LiveContext";
import { ProjectProvider } from "../projects/ProjectContext";
import { type FakeApi, fakeApi } from "./fakeApi";
import { fakeAuth } from "./fakeAuth";
import { fakeLive } from "./fakeLive";

export interface RenderPageOptions {
  api?: FakeApi;
  user?: CurrentUser;
  path?: string;
}

export function renderPage(page: ReactElement, options: RenderPageOptions = {}) {
  const api = options.api ?? fakeApi();
  const auth = fakeAuth({ signedIn: true, fetch: api.fetch, ...(options.user && { user: options.user }) });
  const live = fakeLive();
  const view = render(
    <MemoryRouter initialEntries={[options.path ?? "/"]}>
      <ToastProvider>
        <AuthProvider auth={auth}>
          <LiveProvider live={live.live}>
            <ProjectProvider>{page}</ProjectProvider>
          </LiveProvider>
        </AuthProvider>
      </ToastProvider>
    </MemoryRouter>,
  );
  return { ...view, api, auth, live, user: userEvent.setup() };
}

/** A project as `GET /api/projects` lists it. */
export function project(id: number, path: string) {
  return {
    id,
    gitlab_project_id: 100 + id,
    path_with_namespace: path,
    name: path.split("/").pop() ?? path,
    web_url: `https://gitlab.example.com/${path}`,
    default_branch: "main",
    is_active: true,
    created_at: "2026-11-20T10:00:00Z",
    webhook_id: 7,
  };
}

/** The alert (not the empty toast region) that says `sentence`. */
export async function findAlert(sentence: string | RegExp): Promise<HTMLElement> {
  const { screen } = await import("@testing-library/react");
  const text = await screen.findByText(sentence);
  const alert = text.closest<HTMLElement>('[role="alert"]');
  if (!alert) throw new Error(`"${String(sentence)}" is shown, but not in an alert`);
  return alert;
}
