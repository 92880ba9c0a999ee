import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { answer, fakeApi } from "../testing/fakeApi";
import { project, renderPage } from "../testing/renderPage";
import { AdministrationPage } from "./AdministrationPage";
import type { AssistantSettings } from "./api";

const SETTINGS: AssistantSettings = {
  enabled: false, base_url: "", model: "", api_key_set: false, api_key_writable: true,
  send_titles: false, send_file_names: false, send_log_excerpts: false,
  timeout_seconds: 20, max_request_chars: 8000, daily_call_limit: null, daily_token_limit: null,
  usage_today: { calls: 0, tokens: 0 }, updated_at: null, updated_by: null,
};

function assistantApi() {
  return fakeApi({
    "GET /api/projects": [project(1, "group/app")],
    "GET /api/projects/:id/config": answer(404, { detail: "not needed here" }),
    "GET /api/projects/:id/permissions": [],
    "GET /api/assistant/settings": SETTINGS,
  });
}


describe("administration: AI summary", () => {
  it("saves the endpoint, what may leave and the budget; the key is sent once and never shown", async () => {
    const api = assistantApi();
    const { user } = renderPage(<AdministrationPage />, { api });
    await user.click(await screen.findByRole("tab", { name: "AI summary" }));
    const form = await screen.findByRole("form", { name: "AI settings" });
    await user.click(within(form).getByLabelText("Enable the AI summary"));
    await user.type(within(form).getByLabelText("Base URL"), "http://127.0.0.1:11434/v1");
    await user.type(within(form).getByLabelText("Model"), "llama3.1:8b");
    await user.type(within(form).getByLabelText("API key"), "sk-local");
    await user.click(within(form).getByLabelText("Log excerpts of failed jobs"));
    await user.type(within(form).getByLabelText("Calls per day"), "50");
    const saved = { ...SETTINGS, enabled: true, base_url: "http://127.0.0.1:11434/v1", model: "llama3.1:8b", api_key_set: true, send_log_excerpts: true, daily_call_limit: 50, updated_at: "2026-12-06T19:00:00Z", updated_by: "ada" };
    api.on("PUT /api/assistant/settings", saved);
    await user.click(within(form).getByRole("button", { name: "Save AI settings" }));
    expect(await screen.findByText("AI settings saved.")).toBeInTheDocument();
    expect(api.callsTo("PUT /api/assistant/settings")[0]?.body).toEqual({
      enabled: true, base_url: "http://127.0.0.1:11434/v1", model: "llama3.1:8b", api_key: "sk-local",
      send_titles: false, send_file_names: false, send_log_excerpts: true,
      timeout_seconds: 20, max_request_chars: 8000, daily_call_limit: 50, daily_token_limit: null,
    });
    const after = await screen.findByRole("form", { name: "AI settings" });
    expect(within(after).getByLabelText("API key")).toHaveValue("");
    expect(within(after).getByLabelText("API key")).toHaveAccessibleDescription(/A key is stored \(never shown\)/);
    expect(within(after).getByRole("button", { name: "Remove the API key" })).toBeInTheDocument();
  });

  it("shows the server's refusal next to the field", async () => {
    const api = assistantApi();
    api.on("PUT /api/assistant/settings", answer(422, { detail: "These AI settings cannot be used: base_url: the base URL may not carry credentials: store the API key instead.", code: "invalid" }));
    const { user } = renderPage(<AdministrationPage />, { api });
    await user.click(await screen.findByRole("tab", { name: "AI summary" }));
    const form = await screen.findByRole("form", { name: "AI settings" });
    const url = within(form).getByLabelText("Base URL");
    await user.type(url, "https://u:p@example.com/v1");
    await user.click(within(form).getByRole("button", { name: "Save AI settings" }));
    expect(await within(form).findByText(/may not carry credentials/)).toBeInTheDocument();
    expect(url).toHaveAttribute("aria-invalid", "true");
  });

  it("says where to put the key when the secrets provider only reads", async () => {
    const api = assistantApi();
    api.on("GET /api/assistant/settings", { ...SETTINGS, api_key_writable: false });
    const { user } = renderPage(<AdministrationPage />, { api });
    await user.click(await screen.findByRole("tab", { name: "AI summary" }));
    const key = await screen.findByLabelText("API key");
    expect(key).toBeDisabled();
    expect(key).toHaveAccessibleDescription(/read-only: set the secret assistant-api-key there/);
  });
});
