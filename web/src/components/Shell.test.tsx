import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { AppRoutes } from "../App";
import { AuthProvider } from "../auth/AuthContext";
import { fakeApi } from "../testing/fakeApi";
import { fakeAuth } from "../testing/fakeAuth";
import { ToastProvider } from "./Toasts";

/** A fresh product: nothing onboarded, no messages, no vault files. */
function emptyProduct() {
  return fakeApi({
    "GET /api/projects": [],
    "GET /api/messages/unread-count": { unread_count: 0 },
    "GET /api/messages": { items: [], total: 0, limit: 50, offset: 0 },
    "GET /api/vault/vaults": [],
    "GET /api/vault/default/files": { items: [], total: 0, vault_total: 0, limit: 200, offset: 0 },
    "GET /api/health/ready": { status: "ready", database: "sqlite" },
    "GET /api/health/status": {
      checked_at: "2026-11-22T02:00:00Z", workers: [], leases: [], queues: [],
      inbox: { unprocessed: 0, oldest_received_at: null, by_project: {} }, last_errors: [],
    },
  });
}

function renderApp(path: string, auth = fakeAuth({ signedIn: true, fetch: emptyProduct().fetch })) {
  render(
    <MemoryRouter initialEntries={[path]}>
      <ToastProvider>
        <AuthProvider auth={auth}>
          <AppRoutes />
        </AuthProvider>
      </ToastProvider>
    </MemoryRouter>,
  );
  return { auth, user: userEvent.setup() };
}

describe("the shell", () => {
  it("sends a signed-out visitor to the login page", async () => {
    renderApp("/vault", fakeAuth({ signedIn: false }));
    expect(await screen.findByRole("heading", { name: "Sign in to Merge Assist" })).toBeInTheDocument();
  });

  it("shows the header controls and every section in the navigation", async () => {
    renderApp("/");
    expect(await screen.findByRole("heading", { name: "Merge queue" })).toBeInTheDocument();
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).getAllByRole("link").map((link) => link.textContent)).toEqual([
      "Merge queue",
      "Vault",
      "Messages",
      "Logs",
      "Health",
      "Administration",
    ]);
    expect(within(nav).getByRole("link", { name: "Merge queue" })).toHaveAttribute("aria-current", "page");
    expect(screen.getByRole("combobox", { name: "Project" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Messages" })).toBeInTheDocument();
    expect(screen.getByRole("switch", { name: "Dark theme" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Account menu for Ada Lovelace" })).toBeInTheDocument();
  });

  it("says in each empty section what to do", async () => {
    const { user } = renderApp("/queue");
    const expectations: [string, string][] = [
      ["Merge queue", "No projects yet."],
      ["Vault", "No vault files yet."],
      ["Messages", "Your inbox is empty."],
      ["Logs", "No projects yet."],
      ["Health", "No worker has reported in."],
      ["Administration", "No projects are connected yet."],
    ];
    const nav = await screen.findByRole("navigation", { name: "Main" });
    for (const [section, sentence] of expectations) {
      await user.click(within(nav).getByRole("link", { name: section }));
      expect(screen.getByRole("heading", { level: 1, name: section })).toBeInTheDocument();
      expect(await screen.findByText(sentence)).toBeInTheDocument();
    }
  });

  it("shows the API's readiness on the health page", async () => {
    renderApp("/health");
    expect(await screen.findByText("ready")).toBeInTheDocument();
    expect(screen.getByText("sqlite")).toBeInTheDocument();
  });

  it("logs out from the account menu with the keyboard", async () => {
    const { auth, user } = renderApp("/vault");
    const account = await screen.findByRole("button", { name: "Account menu for Ada Lovelace" });
    account.focus();
    await user.keyboard("{ArrowDown}");
    const menu = screen.getByRole("menu", { name: "Account" });
    expect(within(menu).getByText("Roles: admin")).toBeInTheDocument();
    expect(within(menu).getByRole("menuitem", { name: "Log out" })).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(await screen.findByRole("heading", { name: "Sign in to Merge Assist" })).toBeInTheDocument();
    expect(auth.logout).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("status", { name: "Notifications" })).toHaveTextContent("You are signed out.");
  });

  it("logs out everywhere from the account menu (arrow keys reach the item)", async () => {
    const { auth, user } = renderApp("/vault");
    const account = await screen.findByRole("button", { name: "Account menu for Ada Lovelace" });
    account.focus();
    await user.keyboard("{ArrowDown}");
    const menu = screen.getByRole("menu", { name: "Account" });
    expect(within(menu).getAllByRole("menuitem").map((item) => item.textContent)).toEqual([
      "Log out",
      "Log out everywhere",
      "Forget my GitLab token",
    ]);
    await user.keyboard("{ArrowDown}");
    expect(within(menu).getByRole("menuitem", { name: "Log out everywhere" })).toHaveFocus();
    await user.keyboard("{ArrowDown}{ArrowDown}");
    expect(within(menu).getByRole("menuitem", { name: "Log out" })).toHaveFocus();
    await user.keyboard("{End}{ArrowUp}{Enter}");
    expect(await screen.findByRole("heading", { name: "Sign in to Merge Assist" })).toBeInTheDocument();
    expect(auth.logoutEverywhere).toHaveBeenCalledTimes(1);
    expect(auth.logout).not.toHaveBeenCalled();
    expect(screen.getByRole("status", { name: "Notifications" })).toHaveTextContent(
      "You are signed out in every browser and on every device.",
    );
  });

  it("forgets the stored GitLab token from the account menu and stays signed in", async () => {
    const product = emptyProduct();
    product.on("DELETE /api/auth/gitlab-token", { status: 204 });
    const { auth, user } = renderApp("/vault", fakeAuth({ signedIn: true, fetch: product.fetch }));
    await user.click(await screen.findByRole("button", { name: "Account menu for Ada Lovelace" }));
    await user.click(screen.getByRole("menuitem", { name: "Forget my GitLab token" }));
    expect(await screen.findByText("This server no longer keeps a GitLab token of yours.")).toBeInTheDocument();
    expect(product.callsTo("DELETE /api/auth/gitlab-token")).toHaveLength(1);
    expect(auth.logout).not.toHaveBeenCalled();
    expect(screen.getByRole("heading", { level: 1, name: "Vault" })).toBeInTheDocument();
  });

  it("stays signed in and says why when logging out everywhere is refused", async () => {
    const auth = fakeAuth({ signedIn: true, fetch: emptyProduct().fetch });
    auth.logoutEverywhere.mockRejectedValueOnce(new ApiError(503, "unavailable", "The server is busy; try again in a minute."));
    const { user } = renderApp("/vault", auth);
    await user.click(await screen.findByRole("button", { name: "Account menu for Ada Lovelace" }));
    await user.click(screen.getByRole("menuitem", { name: "Log out everywhere" }));
    expect(await screen.findByText("The server is busy; try again in a minute.")).toBeInTheDocument();
    expect(screen.getByRole("alert", { name: "Errors" })).toHaveTextContent("The server is busy; try again in a minute.");
    expect(screen.getByRole("heading", { level: 1, name: "Vault" })).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Sign in to Merge Assist" })).toBeNull();
  });

  it("closes the account menu with Escape and returns focus", async () => {
    const { user } = renderApp("/queue");
    const account = await screen.findByRole("button", { name: "Account menu for Ada Lovelace" });
    await user.click(account);
    expect(screen.getByRole("menu")).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("menu")).toBeNull();
    expect(account).toHaveFocus();
  });

  it("shows a page-not-found state inside the shell", async () => {
    renderApp("/no/such/page");
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });
});
