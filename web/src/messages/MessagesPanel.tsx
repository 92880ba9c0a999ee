/** Inbox and sent messages: read, delete, compose. Used in the slide-in panel and on /messages. */
import { type FormEvent, useId, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { formatTime, sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, describedBy, Field, INPUT } from "../components/Page";
import { useToast } from "../components/Toasts";
import { useQuery } from "../components/useQuery";
import { MAX_BODY, MAX_SUBJECT, type Message, type MessageDraft, type MessagePage, parseRecipients } from "./api";
import { useUnread } from "./UnreadContext";

type Box = "inbox" | "sent";

const PAGE = 50;
/** The most the server gives in one page. */
const MAX_PAGE = 200;
type View = { kind: "list" } | { kind: "read"; message: Message } | { kind: "compose" };

export function MessagesPanel({ compact = false }: { compact?: boolean }) {
  const { auth } = useSession();
  const unread = useUnread();
  const toast = useToast();
  const [box, setBox] = useState<Box>("inbox");
  const [view, setView] = useState<View>({ kind: "list" });
  const [limit, setLimit] = useState(PAGE);
  const messages = useQuery(
    () => auth.api.get<MessagePage>(`/api/messages?box=${box}&limit=${limit}`).then((result) => (Array.isArray(result?.items) ? result : { items: [], total: 0, limit, offset: 0 })),
    [auth, box, unread.revision, limit],
    "The messages could not be loaded.",
  );
  const { data: page, reload } = messages;

  async function open(message: Message) {
    setView({ kind: "read", message });
    if (message.read === false) {
      try {
        const result = await auth.api.post<{ unread_count: number }>(`/api/messages/${message.id}/read`);
        unread.setCount(result.unread_count);
        reload();
      } catch (failure) {
        toast.show(sentenceOf(failure, "The message could not be marked read."), "error");
      }
    }
  }

  async function remove(message: Message) {
    try {
      await auth.api.del(`/api/messages/${message.id}`);
      toast.show("Message deleted.", "success");
      setView({ kind: "list" });
      reload();
    } catch (failure) {
      toast.show(sentenceOf(failure, "The message could not be deleted."), "error");
    }
  }

  async function markAllRead() {
    try {
      const result = await auth.api.post<{ unread_count: number }>("/api/messages/read-all");
      unread.setCount(result.unread_count);
      reload();
    } catch (failure) {
      toast.show(sentenceOf(failure, "The messages could not be marked read."), "error");
    }
  }

  if (view.kind === "compose") {
    return (
      <ComposeForm
        onCancel={() => setView({ kind: "list" })}
        onSent={() => {
          setBox("sent");
          setView({ kind: "list" });
          reload();
        }}
      />
    );
  }
  if (view.kind === "read") {
    return <MessageView message={view.message} onBack={() => setView({ kind: "list" })} onDelete={remove} />;
  }
  return (
    <div className={compact ? "" : "rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"}>
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <div role="group" aria-label="Mailbox" className="flex gap-1">
          {(["inbox", "sent"] as const).map((name) => (
            <Button key={name} aria-pressed={box === name} onClick={() => setBox(name)} className={box === name ? "ring-2 ring-indigo-400" : ""}>
              {name === "inbox" ? `Inbox${unread.count ? ` (${unread.count} unread)` : ""}` : "Sent"}
            </Button>
          ))}
        </div>
        <div className="ml-auto flex gap-2">
          {box === "inbox" && unread.count > 0 ? <Button onClick={() => void markAllRead()}>Mark all read</Button> : null}
          <Button variant="primary" onClick={() => setView({ kind: "compose" })}>
            Write a message
          </Button>
        </div>
      </div>
      <LoadState
        data={page}
        error={messages.error}
        onRetry={reload}
        loading="Loading messages…"
        empty={box === "inbox" ? "Your inbox is empty." : "You have not sent any messages."}
        emptyHint={
          box === "inbox"
            ? "Messages from teammates and from Merge Assist (a file someone asks for, a rejected merge request) arrive here as they are sent."
            : "Use “Write a message” to reach a teammate, or everyone with “all”."
        }
      >
        {(found) => (
          <ul aria-label={box === "inbox" ? "Inbox" : "Sent messages"} className="divide-y divide-slate-200 dark:divide-slate-800">
            {found.items.map((message) => (
              <li key={message.id}>
                <button
                  type="button"
                  onClick={() => void open(message)}
                  className="flex w-full flex-col items-start gap-0.5 px-2 py-2 text-left hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-slate-800"
                >
                  <span className={message.read === false ? "font-semibold" : ""}>
                    {message.read === false ? <span className="sr-only">Unread: </span> : null}
                    {message.subject}
                  </span>
                  <span className="text-xs text-slate-500 dark:text-slate-400">
                    {box === "inbox" ? (
                      <>
                        from <SenderName sender={message.sender} />
                      </>
                    ) : (
                      `to ${recipients(message)}`
                    )}{" "}
                    ·{" "}
                    {formatTime(message.created_at)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </LoadState>
      {page && page.total > page.items.length ? (
        <div className="mt-2 flex items-center gap-2 text-xs text-slate-500">
          Showing the newest {page.items.length} of {page.total}.
          {limit < MAX_PAGE ? <Button onClick={() => setLimit(Math.min(MAX_PAGE, limit + PAGE))}>Show older</Button> : null}
        </div>
      ) : null}
    </div>
  );
}

/** Who sent a message: the "System" badge only for the system's own messages (the sender's
 * kind, never its name: a user cannot pose as the system), a user's @username beside their name. */
export function SenderName({ sender }: { sender: Message["sender"] }) {
  if (sender.kind === "system") {
    return (
      <span>
        {sender.display_name}{" "}
        <span className="rounded bg-indigo-100 px-1 text-[10px] font-semibold tracking-wide text-indigo-800 uppercase dark:bg-indigo-900 dark:text-indigo-100">
          System
        </span>
      </span>
    );
  }
  return (
    <span>
      {sender.display_name}
      {sender.username ? <span className="text-slate-500 dark:text-slate-400"> (@{sender.username})</span> : null}
    </span>
  );
}

function recipients(message: Message): string {
  return message.to === "all" ? "everyone" : message.to.join(", ");
}

function MessageView({ message, onBack, onDelete }: { message: Message; onBack: () => void; onDelete: (m: Message) => Promise<void> }) {
  return (
    <article aria-label={message.subject} className="flex flex-col gap-3">
      <div>
        <Button onClick={onBack}>← Back to the list</Button>
      </div>
      <h3 className="text-lg font-semibold">{message.subject}</h3>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-slate-500">From</dt>
        <dd>
          <SenderName sender={message.sender} />
        </dd>
        <dt className="text-slate-500">To</dt>
        <dd>{recipients(message)}</dd>
        <dt className="text-slate-500">Sent</dt>
        <dd>{formatTime(message.created_at)}</dd>
        {message.related_file ? (
          <>
            <dt className="text-slate-500">File</dt>
            <dd className="font-mono">{message.related_file}</dd>
          </>
        ) : null}
        {message.related_mr ? (
          <>
            <dt className="text-slate-500">Merge request</dt>
            <dd className="font-mono">{message.related_mr}</dd>
          </>
        ) : null}
      </dl>
      <p className="whitespace-pre-wrap">{message.body}</p>
      <div>
        <Button variant="danger" onClick={() => void onDelete(message)}>
          {message.sent_by_me ? "Delete for everyone" : "Delete"}
        </Button>
      </div>
    </article>
  );
}

export interface ComposeFormProps {
  onCancel: () => void;
  onSent: () => void;
  /** Fields filled in advance (a message about a vault file to its holder). */
  initial?: { to?: string; subject?: string; relatedFile?: string; relatedMr?: string };
}

/** Write a message: To (a username, several, or all), subject, body, related file or MR. */
export function ComposeForm({ onCancel, onSent, initial = {} }: ComposeFormProps) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const [to, setTo] = useState(initial.to ?? "");
  const [subject, setSubject] = useState(initial.subject ?? "");
  const [body, setBody] = useState("");
  const [relatedFile, setRelatedFile] = useState(initial.relatedFile ?? "");
  const [relatedMr, setRelatedMr] = useState(initial.relatedMr ?? "");
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const draft: MessageDraft = { to: parseRecipients(to), subject: subject.trim(), body };
    if (relatedFile.trim()) draft.related_file = relatedFile.trim();
    if (relatedMr.trim()) draft.related_mr = relatedMr.trim();
    setSending(true);
    setError(null);
    try {
      await auth.api.post("/api/messages", draft);
      toast.show("Message sent.", "success");
      onSent();
    } catch (failure) {
      setError(sentenceOf(failure, "The message could not be sent."));
    } finally {
      setSending(false);
    }
  }

  return (
    <form aria-label="Write a message" onSubmit={(event) => void submit(event)} className="flex flex-col gap-3">
      {error ? (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 p-2 text-sm dark:border-red-800 dark:bg-red-950">
          {error}
        </p>
      ) : null}
      <Field label="To" id={`${id}-to`} hint="A username, several separated by commas, or all for everyone.">
        <input id={`${id}-to`} required value={to} onChange={(e) => setTo(e.target.value)} className={INPUT} {...describedBy(`${id}-to`, true, null)} />
      </Field>
      <Field label="Subject" id={`${id}-subject`}>
        <input id={`${id}-subject`} required maxLength={MAX_SUBJECT} value={subject} onChange={(e) => setSubject(e.target.value)} className={INPUT} />
      </Field>
      <Field label="Message" id={`${id}-body`}>
        <textarea id={`${id}-body`} required rows={6} maxLength={MAX_BODY} value={body} onChange={(e) => setBody(e.target.value)} className={INPUT} />
      </Field>
      <Field label="Related file (optional)" id={`${id}-file`} hint="A vault file path, like fixtures/part.mcam.">
        <input id={`${id}-file`} value={relatedFile} onChange={(e) => setRelatedFile(e.target.value)} className={INPUT} {...describedBy(`${id}-file`, true, null)} />
      </Field>
      <Field label="Related merge request (optional)" id={`${id}-mr`} hint="Like group/project!12.">
        <input id={`${id}-mr`} value={relatedMr} onChange={(e) => setRelatedMr(e.target.value)} className={INPUT} {...describedBy(`${id}-mr`, true, null)} />
      </Field>
      <div className="flex gap-2">
        <Button type="submit" variant="primary" disabled={sending}>
          {sending ? "Sending…" : "Send"}
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  );
}
