import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { answer, fakeApi } from "../testing/fakeApi";
import { findAlert, renderPage } from "../testing/renderPage";
import type { Message } from "./api";
import { MessagesButton } from "./MessagesButton";
import { MessagesPage } from "./MessagesPage";
import { UnreadProvider } from "./UnreadContext";

function message(id: number, subject: string, overrides: Partial<Message> = {}): Message {
  return {
    id,
    subject,
    body: `Body of ${subject}`,
    sender: { kind: "user", id: 2, username: "grace", display_name: "Grace Hopper" },
    to: ["ada"],
    is_broadcast: false,
    related_file: null,
    related_mr: null,
    created_at: "2026-11-22T01:00:00Z",
    read: false,
    read_at: null,
    sent_by_me: false,
    ...overrides,
  };
}

function page(items: Message[]) {
  return { items, total: items.length, limit: 50, offset: 0 };
}

function messagesApi(inbox: Message[], unread = 1) {
  return fakeApi({
    "GET /api/projects": [],
    "GET /api/messages/unread-count": { unread_count: unread },
    "GET /api/messages": (request: { query: URLSearchParams }) =>
      page(request.query.get("box") === "sent" ? [] : inbox),
  });
}

function withBadge() {
  return (
    <UnreadProvider>
      <MessagesButton />
      <MessagesPage />
    </UnreadProvider>
  );
}

describe("messages", () => {
  it("shows the unread badge and marks a message read when opened", async () => {
    const api = messagesApi([message(5, "Need the fixture file"), message(4, "Old news", { read: true })]);
    api.on("POST /api/messages/:id/read", { message_id: 5, read_at: "2026-11-22T01:05:00Z", unread_count: 0 });
    const { user } = renderPage(withBadge(), { api });
    expect(await screen.findByRole("button", { name: "Messages, 1 unread" })).toBeInTheDocument();
    const inbox = await screen.findByRole("list", { name: "Inbox" });
    expect(within(inbox).getAllByRole("button").map((b) => b.textContent)).toEqual([
      expect.stringContaining("Unread: Need the fixture file"),
      expect.stringContaining("Old news"),
    ]);
    await user.click(within(inbox).getByRole("button", { name: /Need the fixture file/ }));
    expect(await screen.findByText("Body of Need the fixture file")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole("button", { name: "Messages" })).toBeInTheDocument());
    expect(api.callsTo("POST /api/messages/5/read")).toHaveLength(1);
  });

  it("updates the badge and the list when a message arrives live", async () => {
    const inbox = [message(4, "Old news", { read: true })];
    const api = messagesApi(inbox, 0);
    const { live } = renderPage(withBadge(), { api });
    expect(await screen.findByText("Old news")).toBeInTheDocument();
    inbox.unshift(message(6, "Fresh one"));
    live.emit({ type: "message.new", message_id: 6, subject: "Fresh one", sender: "Grace Hopper", unread_count: 1 });
    expect(screen.getByRole("button", { name: "Messages, 1 unread" })).toBeInTheDocument();
    expect(screen.getByRole("status", { name: "Notifications" })).toHaveTextContent(
      "New message from Grace Hopper: Fresh one",
    );
    expect(await screen.findByRole("button", { name: /Fresh one/ })).toBeInTheDocument();
  });

  it("shows the System badge only for the system's own messages, whatever a user is called", async () => {
    const system = message(7, "Your file is free", {
      sender: { kind: "system", id: null, username: null, display_name: "Merge Assist" },
    });
    const poser = message(8, "Please send your password", {
      sender: { kind: "user", id: 9, username: "mallory", display_name: "Merge Assist" },
    });
    const { user } = renderPage(<MessagesPage />, { api: messagesApi([poser, system], 0) });
    const inbox = await screen.findByRole("list", { name: "Inbox" });
    const [fromPoser, fromSystem] = within(inbox).getAllByRole("button");
    expect(fromSystem).toHaveTextContent("from Merge Assist System");
    expect(fromPoser).toHaveTextContent("from Merge Assist (@mallory)");
    expect(within(fromPoser as HTMLElement).queryByText("System")).toBeNull();
    await user.click(fromPoser as HTMLElement);
    const opened = await screen.findByRole("article", { name: "Please send your password" });
    expect(within(opened).getByText("(@mallory)")).toBeInTheDocument();
    expect(within(opened).queryByText("System")).toBeNull();
  });

  it("names the sender's kind in the toast of a live message", async () => {
    const api = messagesApi([], 0);
    const { live } = renderPage(withBadge(), { api });
    expect(await screen.findByText("Your inbox is empty.")).toBeInTheDocument();
    live.emit({
      type: "message.new",
      message_id: 6,
      subject: "Hi",
      sender: "Merge Assist",
      sender_kind: "user",
      sender_username: "mallory",
      unread_count: 1,
    });
    expect(screen.getByRole("status", { name: "Notifications" })).toHaveTextContent(
      "New message from Merge Assist (@mallory): Hi",
    );
  });

  it("composes a message to several people with a related file", async () => {
    const api = messagesApi([], 0);
    api.on("POST /api/messages", answer(201, message(9, "Hello", { sent_by_me: true, read: null })));
    const { user } = renderPage(<MessagesPage />, { api });
    expect(await screen.findByText("Your inbox is empty.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Write a message" }));
    const form = screen.getByRole("form", { name: "Write a message" });
    await user.type(within(form).getByLabelText("To"), "grace, linus");
    await user.type(within(form).getByLabelText("Subject"), "Hello");
    await user.type(within(form).getByLabelText("Message"), "Please release part.mcam");
    await user.type(within(form).getByLabelText("Related file (optional)"), "fixtures/part.mcam");
    await user.click(within(form).getByRole("button", { name: "Send" }));
    expect(await screen.findByText("You have not sent any messages.")).toBeInTheDocument();
    expect(api.callsTo("POST /api/messages")[0]?.body).toEqual({
      to: ["grace", "linus"],
      subject: "Hello",
      body: "Please release part.mcam",
      related_file: "fixtures/part.mcam",
    });
    expect(screen.getByRole("status", { name: "Notifications" })).toHaveTextContent("Message sent.");
  });

  it("shows the server's refusal inside the form", async () => {
    const api = messagesApi([], 0);
    api.on("POST /api/messages", answer(422, { detail: "There is no user called 'nobody'.", code: "invalid" }));
    const { user } = renderPage(<MessagesPage />, { api });
    await user.click(await screen.findByRole("button", { name: "Write a message" }));
    await user.type(screen.getByLabelText("To"), "nobody");
    await user.type(screen.getByLabelText("Subject"), "Hi");
    await user.type(screen.getByLabelText("Message"), "x");
    await user.click(screen.getByRole("button", { name: "Send" }));
    await findAlert("There is no user called 'nobody'.");
    expect(screen.getByRole("form", { name: "Write a message" })).toBeInTheDocument();
  });

  it("deletes a message and says what failed to load", async () => {
    const api = messagesApi([message(5, "Delete me", { read: true })], 0);
    api.on("DELETE /api/messages/:id", answer(204));
    const { user } = renderPage(<MessagesPage />, { api });
    await user.click(await screen.findByRole("button", { name: /Delete me/ }));
    api.on("GET /api/messages", answer(503, { detail: "The database is not reachable." }));
    await user.click(screen.getByRole("button", { name: "Delete" }));
    expect(api.callsTo("DELETE /api/messages/5")).toHaveLength(1);
    await findAlert("The database is not reachable.");
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });

  it("shows older messages on request", async () => {
    const api = fakeApi({
      "GET /api/projects": [],
      "GET /api/messages": (request: { query: URLSearchParams }) => ({
        items: [message(1, "Newest", { read: true })], total: 60, limit: Number(request.query.get("limit")), offset: 0,
      }),
    });
    const { user } = renderPage(<MessagesPage />, { api });
    expect(await screen.findByText("Showing the newest 1 of 60.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Show older" }));
    await waitFor(() => expect(api.calls.at(-1)?.query.get("limit")).toBe("100"));
  });

  it("opens the panel from the header button and closes it with Escape", async () => {
    const api = messagesApi([message(5, "Panel message")], 1);
    const { user } = renderPage(
      <UnreadProvider>
        <MessagesButton />
      </UnreadProvider>,
      { api },
    );
    const button = await screen.findByRole("button", { name: "Messages, 1 unread" });
    await user.click(button);
    const dialog = screen.getByRole("dialog", { name: "Messages" });
    expect(await within(dialog).findByText("Panel message")).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});
