import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { AppRoutes } from "../App";
import { AuthProvider } from "../auth/AuthContext";
import { fakeAuth } from "../testing/fakeAuth";
import { ToastProvider } from "./Toasts";

function renderApp(path: string, auth = fakeAuth({ signedIn: true })) {
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

  it("says what each empty section will show", async () => {
    const { user } = renderApp("/queue");
    const expectations: [string, string][] = [
      ["Vault", "No vault files yet."],
    ];
    const nav = await screen.findByRole("navigation", { name: "Main" });
    for (const [section, sentence] of expectations) {
      await user.click(within(nav).getByRole("link", { name: section }));
      expect(screen.getByRole("heading", { level: 1, name: section })).toBeInTheDocument();
      expect(screen.getByText(sentence)).toBeInTheDocument();
      expect(screen.getByText("What will appear here:")).toBeInTheDocument();
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
