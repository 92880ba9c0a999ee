import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ADA } from "../testing/fakeAuth";
import { answer, type FakeRequest, fakeApi } from "../testing/fakeApi";
import { findAlert, renderPage } from "../testing/renderPage";
import type { VaultFile, Version } from "./api";
import { VAULT_STORAGE_KEY, VaultPage } from "./VaultPage";

const SINCE = new Date(Date.now() - 3 * 3600_000).toISOString();

function file(id: number, path: string, overrides: Partial<VaultFile> = {}): VaultFile {
  return {
    id, vault_id: 1, path, name: path.split("/").pop() ?? path, size: 2048, current_version: `v${id}aaaaaaaa`,
    content_sha256: "00", updated_at: "2026-11-21T10:00:00Z", updated_by: "grace", status: "available",
    checked_out_by_me: false, lock: null, ...overrides,
  };
}

function locked(holder: string, mine: boolean, reason = "Editing the roughing pass") {
  return {
    status: "checked_out" as const,
    checked_out_by_me: mine,
    lock: { holder: { id: mine ? 1 : 2, username: holder, display_name: holder === "ada" ? "Ada Lovelace" : "Grace Hopper" }, since: SINCE, age_seconds: 10800, reason, base_version: "base1234567" },
  };
}

const FILES = [
  file(1, "fixtures/part.mcam"),
  file(2, "programs/op10.nc", locked("grace", false)),
  file(3, "programs/op20.nc", locked("ada", true)),
];

function version(id: string, message: string): Version {
  return { id, author_name: "Grace Hopper", author_email: "g@example.com", message, date: "2026-11-21T10:00:00Z", size: 10, content_sha256: "x" };
}

function vaultApi(items = FILES) {
  return fakeApi({
    "GET /api/projects": [],
    "GET /api/vault/vaults": [],
    "GET /api/vault/default/files": (request: FakeRequest) => {
      const search = request.query.get("search");
      const shown = search ? items.filter((item) => item.path.includes(search)) : items;
      return { items: shown, total: shown.length, vault_total: items.length, limit: 200, offset: 0 };
    },
  });
}

function vaultInfo(id: number, name: string, fileCount: number) {
  return { id, name, backend: name === "default" ? "local" : "gitlab", project_id: name === "default" ? null : 2, folder: "", branch: "main", is_default: name === "default", file_count: fileCount };
}

function twoVaultsApi() {
  const page = (items: VaultFile[]) => ({ items, total: items.length, vault_total: items.length, limit: 200, offset: 0 });
  return fakeApi({
    "GET /api/projects": [],
    "GET /api/vault/vaults": [vaultInfo(1, "default", 0), vaultInfo(2, "cam-programs", 3)],
    "GET /api/vault/default/files": page([]),
    "GET /api/vault/cam-programs/files": page(FILES),
  });
}

describe("the vault page opens where the files are", () => {
  it("opens the vault with files rather than the empty default one, then remembers the choice", async () => {
    const api = twoVaultsApi();
    const first = renderPage(<VaultPage />, { api });
    expect(await screen.findByText("Showing 3 of 3")).toBeInTheDocument();
    const chooser = screen.getByRole("combobox", { name: "Vault" });
    expect(chooser).toHaveValue("cam-programs");
    expect(api.callsTo("GET /api/vault/default/files")).toHaveLength(0); // not even a first look
    await first.user.selectOptions(chooser, "default");
    expect(await screen.findByText("No vault files yet.")).toBeInTheDocument();
    expect(localStorage.getItem(VAULT_STORAGE_KEY)).toBe("default");
    first.unmount();

    renderPage(<VaultPage />, { api });
    await waitFor(() => expect(screen.getByRole("combobox", { name: "Vault" })).toHaveValue("default"));
    expect(await screen.findByText("No vault files yet.")).toBeInTheDocument();
  });
});

describe("the vault page", () => {
  it("lists files with their holders, filters and sorts", async () => {
    const api = vaultApi();
    const { user } = renderPage(<VaultPage />, { api });
    const table = await screen.findByRole("table", { name: "Vault files" });
    expect(screen.getByText("Showing 3 of 3")).toBeInTheDocument();
    const held = within(table).getByRole("row", { name: /op10\.nc/ });
    expect(within(held).getByText("Grace Hopper")).toBeInTheDocument();
    expect(within(held).getByText("3 h")).toBeInTheDocument();
    expect(within(held).getByText("Editing the roughing pass")).toBeInTheDocument();
    expect(within(held).getByRole("button", { name: "Force unlock op10.nc" })).toBeInTheDocument();
    expect(within(held).queryByRole("button", { name: /^Check out/ })).toBeNull();
    const mine = within(table).getByRole("row", { name: /op20\.nc/ });
    expect(within(mine).getByText("checked out by you")).toBeInTheDocument();
    expect(within(mine).getByRole("button", { name: "Undo check-out of op20.nc" })).toBeInTheDocument();

    await user.type(screen.getByLabelText("Search files"), "part");
    expect(await screen.findByText("Showing 1 of 1 (3 in the vault)")).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Status"), "mine");
    await user.selectOptions(screen.getByLabelText("Sort by"), "modified");
    await user.click(screen.getByLabelText("Descending"));
    await waitFor(() => {
      const last = api.calls.at(-1);
      expect(last?.query.get("status")).toBe("mine");
      expect(last?.query.get("sort")).toBe("modified");
      expect(last?.query.get("order")).toBe("desc");
    });
  });

  it("checks out with a reason and shows the holder sentence of a 409", async () => {
    const api = vaultApi();
    api.on("POST /api/vault/default/files/:id/checkout", answer(409, { detail: "part.mcam is checked out by Grace Hopper since 10:02 UTC: “Fixing the clamp”." }));
    const { user } = renderPage(<VaultPage />, { api });
    await user.click(await screen.findByRole("button", { name: "Check out part.mcam" }));
    const dialog = screen.getByRole("dialog", { name: "Check out part.mcam" });
    const reason = within(dialog).getByLabelText("Reason");
    expect(reason).toHaveFocus();
    await user.type(reason, "New fixture");
    await user.click(within(dialog).getByRole("button", { name: "Check out" }));
    await findAlert("part.mcam is checked out by Grace Hopper since 10:02 UTC: “Fixing the clamp”.");
    expect(api.callsTo("POST /api/vault/default/files/1/checkout")[0]?.body).toEqual({ reason: "New fixture" });

    api.on("POST /api/vault/default/files/:id/checkout", file(1, "fixtures/part.mcam", locked("ada", true, "New fixture")));
    await user.click(within(dialog).getByRole("button", { name: "Check out" }));
    expect(await screen.findByText("part.mcam is checked out to you.")).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("checks in a new version keeping the lock, and undoes a check-out", async () => {
    const api = vaultApi();
    api.on("POST /api/vault/default/files/:id/checkin", { file: FILES[2], version: version("new1234567", "Faster feed"), changed: true, released: false });
    api.on("POST /api/vault/default/files/:id/undo-checkout", file(3, "programs/op20.nc"));
    const { user } = renderPage(<VaultPage />, { api });
    await user.click(await screen.findByRole("button", { name: "Check in op20.nc" }));
    const dialog = screen.getByRole("dialog", { name: "Check in op20.nc" });
    await user.upload(within(dialog).getByLabelText("New content"), new File(["G0 X1"], "op20.nc"));
    await user.type(within(dialog).getByLabelText("Message"), "Faster feed");
    await user.click(within(dialog).getByLabelText("Keep it checked out"));
    await user.click(within(dialog).getByRole("button", { name: "Check in" }));
    expect(await screen.findByText("A new version is stored; op20.nc stays checked out to you.")).toBeInTheDocument();
    const sent = api.callsTo("POST /api/vault/default/files/3/checkin")[0]?.body as FormData;
    expect(sent.get("base_version")).toBe("base1234567");
    expect(sent.get("keep_locked")).toBe("true");
    expect(sent.get("message")).toBe("Faster feed");
    expect((sent.get("file") as File).name).toBe("op20.nc");

    await user.click(screen.getByRole("button", { name: "Undo check-out of op20.nc" }));
    expect(await screen.findByText("op20.nc is released without a new version.")).toBeInTheDocument();
  });

  it("force-unlocks for admins only, with a reason", async () => {
    const api = vaultApi();
    api.on("POST /api/vault/default/files/:id/force-unlock", file(2, "programs/op10.nc"));
    const { user } = renderPage(<VaultPage />, { api });
    await user.click(await screen.findByRole("button", { name: "Force unlock op10.nc" }));
    const dialog = screen.getByRole("dialog", { name: "Force unlock op10.nc" });
    expect(dialog).toHaveTextContent("Held by Grace Hopper");
    await user.type(within(dialog).getByLabelText("Reason"), "Grace is on holiday");
    await user.click(within(dialog).getByRole("button", { name: "Force unlock" }));
    expect(await screen.findByText("op10.nc is released; Grace Hopper gets a message.")).toBeInTheDocument();
    expect(api.callsTo("POST /api/vault/default/files/2/force-unlock")[0]?.body).toEqual({ reason: "Grace is on holiday" });
  });

  it("asks the holder for a file with a message about it", async () => {
    const api = vaultApi();
    api.on("POST /api/messages", answer(201, {}));
    const { user } = renderPage(<VaultPage />, { api });
    await user.click(await screen.findByRole("button", { name: "Ask Grace Hopper for op10.nc" }));
    const dialog = screen.getByRole("dialog", { name: "Ask Grace Hopper for op10.nc" });
    expect(within(dialog).getByLabelText("To")).toHaveValue("grace");
    await user.type(within(dialog).getByLabelText("Message"), "I need it for the night shift.");
    await user.click(within(dialog).getByRole("button", { name: "Send" }));
    expect(await screen.findByText("Message sent.")).toBeInTheDocument();
    expect(api.callsTo("POST /api/messages")[0]?.body).toEqual({
      to: "grace",
      subject: "Could you check in op10.nc?",
      body: "I need it for the night shift.",
      related_file: "programs/op10.nc",
    });
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("shows a file's audit entries to admins", async () => {
    const api = vaultApi();
    api.on("GET /api/audit", {
      items: [{ id: 1, occurred_at: "2026-11-22T01:00:00Z", actor_id: 2, actor_name: "grace", action: "vault.checkout", target_type: "vault_file", target_id: "2", success: true, details: {}, prev_hash: "0", entry_hash: "1" }],
      total: 1, limit: 50, offset: 0,
    });
    const { user } = renderPage(<VaultPage />, { api });
    await user.click(await screen.findByRole("button", { name: "Audit of op10.nc" }));
    const dialog = screen.getByRole("dialog", { name: "Audit of op10.nc" });
    expect(await within(dialog).findByText("vault.checkout")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("Target")).toHaveValue("2");
    const query = api.callsTo("GET /api/audit")[0]?.query;
    expect(query?.get("target_type")).toBe("vault_file");
    expect(query?.get("target_id")).toBe("2");
  });

  it("hides writing actions from viewers", async () => {
    renderPage(<VaultPage />, { api: vaultApi(), user: { ...ADA, roles: ["viewer"] } });
    await screen.findByRole("table", { name: "Vault files" });
    await waitFor(() => expect(screen.queryByRole("button", { name: "Check out part.mcam" })).toBeNull());
    expect(screen.queryByRole("button", { name: /Force unlock/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "Upload a new file" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Sync with storage" })).toBeNull();
    expect(screen.queryByRole("button", { name: /^Audit of/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /^Ask / })).toBeNull();
    expect(screen.getByRole("button", { name: "Download part.mcam" })).toBeInTheDocument();
  });

  it("shows history, the changes between versions, and rolls back", async () => {
    const api = vaultApi();
    api.on("GET /api/vault/default/files/:id/history", [version("ccc1234567", "Third"), version("bbb1234567", "Second")]);
    api.on("GET /api/vault/default/files/:id/diff", {
      kind: "text", from_version: version("bbb1234567", "Second"), to_version: version("ccc1234567", "Third"), identical: false,
      unified: "--- a\n+++ b\n-G0 X1\n+G0 X2", changes: [{ field: "size", old: 5, new: 6, changed: true }],
    });
    api.on("POST /api/vault/default/files/:id/rollback", { file: FILES[2], version: version("ddd1234567", "Rollback"), changed: true, released: false });
    const { user } = renderPage(<VaultPage />, { api });
    await user.click(await screen.findByRole("button", { name: "History of op20.nc" }));
    const dialog = screen.getByRole("dialog", { name: "History of op20.nc" });
    const versions = await within(dialog).findByRole("list", { name: "Versions" });
    expect(within(versions).getAllByRole("listitem")).toHaveLength(2);
    await user.click(within(dialog).getByRole("button", { name: "Changes in ccc12345" }));
    const changes = await within(dialog).findByRole("region", { name: "Changes" });
    expect(within(changes).getByText("+G0 X2")).toBeInTheDocument();
    expect(api.calls.at(-1)?.query.get("from")).toBe("bbb1234567");
    await user.click(within(dialog).getByRole("button", { name: "Roll back to bbb12345" }));
    expect(await screen.findByText("op20.nc is back to the content of bbb12345 (as a new version).")).toBeInTheDocument();
    expect(api.callsTo("POST /api/vault/default/files/3/rollback")[0]?.body).toEqual({ version: "bbb1234567" });
  });

  it("uploads a new file and reloads on live vault events", async () => {
    const api = vaultApi([]);
    api.on("POST /api/vault/default/files", answer(201, file(9, "fixtures/new.mcam")));
    const { user, live } = renderPage(<VaultPage />, { api });
    expect(await screen.findByText("No vault files yet.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Upload a new file" }));
    const dialog = screen.getByRole("dialog", { name: "Upload a new file" });
    await user.upload(within(dialog).getByLabelText("File"), new File(["x"], "new.mcam"));
    await user.type(within(dialog).getByLabelText("Name in the vault (optional)"), "fixtures/new.mcam");
    await user.click(within(dialog).getByRole("button", { name: "Upload" }));
    expect(await screen.findByText("fixtures/new.mcam is in the vault (version 1).")).toBeInTheDocument();
    expect((api.callsTo("POST /api/vault/default/files")[0]?.body as FormData).get("name")).toBe("fixtures/new.mcam");

    api.on("POST /api/vault/default/sync", { added: 2, updated: 1, ignored: 1 });
    await user.click(screen.getByRole("button", { name: "Sync with storage" }));
    expect(
      await screen.findByText("Sync found 2 new and 1 changed files. 1 other file(s) are not vault files and were left out."),
    ).toBeInTheDocument();

    const before = api.callsTo("GET /api/vault/default/files").length;
    live.emit({ type: "vault.file", action: "checkout", vault_id: 1, file_id: 9, version: "v" });
    await waitFor(() => expect(api.callsTo("GET /api/vault/default/files").length).toBeGreaterThan(before));
  });
});
