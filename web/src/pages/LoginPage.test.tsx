import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { AuthProvider } from "../auth/AuthContext";
import { fakeAuth } from "../testing/fakeAuth";
import { LoginPage, METHOD_NOT_OFFERED, personalAccessTokenPage } from "./LoginPage";

function renderLogin(auth = fakeAuth(), gitlabUrl: string | null = null) {
  render(
    <MemoryRouter initialEntries={["/login"]}>
      <AuthProvider auth={auth}>
        <Routes>
          <Route path="/login" element={<LoginPage gitlabUrl={gitlabUrl} />} />
          <Route path="/queue" element={<h1>Queue page</h1>} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
  return { auth, user: userEvent.setup() };
}

describe("LoginPage", () => {
  it("offers both sign-in methods, the password one first", () => {
    renderLogin();
    const tabs = screen.getAllByRole("tab");
    expect(tabs.map((tab) => tab.textContent)).toEqual(["Password", "GitLab Token"]);
    expect(screen.getByRole("tab", { name: "Password" })).toHaveAttribute("aria-selected", "true");
    expect(screen.getByRole("tabpanel")).toHaveAccessibleName("Password");
    expect(screen.getByLabelText("Username")).toBeInTheDocument();
    expect(screen.getByLabelText("Password", { selector: "input" })).toHaveAttribute("type", "password");
    expect(screen.getByRole("button", { name: "Sign in" })).toBeInTheDocument();
  });

  it("shows the token field and the scopes it needs on the GitLab tab", async () => {
    const { user } = renderLogin();
    await user.click(screen.getByRole("tab", { name: "GitLab Token" }));
    const token = screen.getByLabelText("GitLab personal access token");
    expect(token).toHaveAttribute("type", "password");
    // (the accessibility tree of the test DOM puts spaces around inline <code>)
    expect(token).toHaveAccessibleDescription(
      /needs the scope api ?, or read_api together with read_repository and write_repository/,
    );
    expect(screen.queryByRole("link")).toBeNull();
  });

  it("links to the GitLab token page when the server tells its address", async () => {
    const { user } = renderLogin(fakeAuth(), "https://gitlab.example.com/");
    await user.click(screen.getByRole("tab", { name: "GitLab Token" }));
    const link = screen.getByRole("link", { name: "Create a personal access token on GitLab" });
    expect(link).toHaveAttribute(
      "href",
      "https://gitlab.example.com/-/user_settings/personal_access_tokens",
    );
    expect(link).toHaveAttribute("rel", "noopener noreferrer");
  });

  it("moves between tabs with the arrow, Home and End keys", async () => {
    const { user } = renderLogin();
    await user.click(screen.getByRole("tab", { name: "Password" }));
    await user.keyboard("{ArrowRight}");
    const gitlab = screen.getByRole("tab", { name: "GitLab Token" });
    expect(gitlab).toHaveAttribute("aria-selected", "true");
    expect(gitlab).toHaveFocus();
    await user.keyboard("{ArrowRight}");
    expect(screen.getByRole("tab", { name: "Password" })).toHaveFocus();
    await user.keyboard("{End}");
    expect(gitlab).toHaveFocus();
    await user.keyboard("{Home}");
    expect(screen.getByRole("tab", { name: "Password" })).toHaveAttribute("aria-selected", "true");
  });

  it("shows the server's sentence when the password is wrong", async () => {
    const auth = fakeAuth();
    auth.login.mockRejectedValueOnce(
      new ApiError(401, "not_authenticated", "The username or password is wrong."),
    );
    const { user } = renderLogin(auth);
    await user.type(screen.getByLabelText("Username"), "ada");
    await user.type(screen.getByLabelText("Password", { selector: "input" }), "nope");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The username or password is wrong.");
    expect(auth.login).toHaveBeenCalledWith("ada", "nope");
    expect(screen.getByRole("button", { name: "Sign in" })).toBeEnabled();
  });

  it("signs in with the keyboard alone and opens the merge queue", async () => {
    const { auth, user } = renderLogin();
    await user.click(screen.getByLabelText("Username"));
    await user.keyboard("ada{Tab}correct horse{Enter}");
    expect(await screen.findByRole("heading", { name: "Queue page" })).toBeInTheDocument();
    expect(auth.login).toHaveBeenCalledWith("ada", "correct horse");
  });

  it("signs in with a GitLab token", async () => {
    const { auth, user } = renderLogin();
    await user.click(screen.getByRole("tab", { name: "GitLab Token" }));
    await user.type(screen.getByLabelText("GitLab personal access token"), "glpat-123");
    await user.click(screen.getByRole("button", { name: "Sign in with GitLab" }));
    await waitFor(() => expect(auth.loginWithGitlabToken).toHaveBeenCalledWith("glpat-123"));
    expect(await screen.findByRole("heading", { name: "Queue page" })).toBeInTheDocument();
  });

  it("says so when the server does not offer a sign-in method", async () => {
    const auth = fakeAuth();
    auth.loginWithGitlabToken.mockRejectedValueOnce(new ApiError(404, "http_error", "Not Found"));
    const { user } = renderLogin(auth);
    await user.click(screen.getByRole("tab", { name: "GitLab Token" }));
    await user.type(screen.getByLabelText("GitLab personal access token"), "glpat-123");
    await user.click(screen.getByRole("button", { name: "Sign in with GitLab" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(METHOD_NOT_OFFERED);
  });

  it("clears the error when another method is chosen", async () => {
    const auth = fakeAuth();
    auth.login.mockRejectedValueOnce(new ApiError(0, "network", "The server could not be reached."));
    const { user } = renderLogin(auth);
    await user.type(screen.getByLabelText("Username"), "ada");
    await user.type(screen.getByLabelText("Password", { selector: "input" }), "x");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByRole("alert");
    await user.click(screen.getByRole("tab", { name: "GitLab Token" }));
    expect(screen.queryByRole("alert")).toBeNull();
  });
});

describe("personalAccessTokenPage", () => {
  it("builds the token page address without a double slash", () => {
    expect(personalAccessTokenPage("https://gl.example.org//")).toBe(
      "https://gl.example.org/-/user_settings/personal_access_tokens",
    );
  });
});
