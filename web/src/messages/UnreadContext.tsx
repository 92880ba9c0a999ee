/**
 * The unread-message count for the header badge: read once, then kept right by the live
 * `message.*` events (each carries the new count). A new message is also announced in a toast.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { useToast } from "../components/Toasts";
import { useLiveEvent, useOnReconnect } from "../live/LiveContext";
import { MESSAGE_EVENTS } from "./api";

interface Unread {
  count: number;
  /** Set after an action whose answer carries the new count (mark read). */
  setCount(count: number): void;
  /** Bumped on every message event: lists that show messages reload on it. */
  revision: number;
}

const UnreadContext = createContext<Unread | null>(null);

export function UnreadProvider({ children }: { children: ReactNode }) {
  const { auth, status } = useSession();
  const toast = useToast();
  const [count, setCountState] = useState(0);
  const [revision, setRevision] = useState(0);
  const [reconnects, setReconnects] = useState(0);
  // Events sent while the socket was down are lost: read the count (and the lists) again.
  useOnReconnect(() => {
    setReconnects((value) => value + 1);
    setRevision((value) => value + 1);
  });

  useEffect(() => {
    if (status !== "signed-in") return undefined;
    let cancelled = false;
    auth.api
      .get<{ unread_count: number }>("/api/messages/unread-count")
      .then((body) => {
        if (!cancelled && typeof body?.unread_count === "number") setCountState(body.unread_count);
      })
      .catch(() => undefined); // the badge stays at zero; the messages page says what failed
    return () => {
      cancelled = true;
    };
  }, [auth, status, reconnects]);

  useLiveEvent([...MESSAGE_EVENTS], (event) => {
    if (typeof event.unread_count === "number") setCountState(event.unread_count);
    setRevision((value) => value + 1);
    if (event.type === "message.new") {
      const subject = typeof event.subject === "string" ? event.subject : "";
      toast.show(`New message from ${senderOf(event)}: ${subject}`, "info");
    }
  });

  const setCount = useCallback((value: number) => setCountState(value), []);
  const value = useMemo(() => ({ count, setCount, revision }), [count, setCount, revision]);
  return <UnreadContext.Provider value={value}>{children}</UnreadContext.Provider>;
}

const OUTSIDE: Unread = { count: 0, setCount: () => undefined, revision: 0 };

/** The unread count (zero, and inert, outside a provider). */
export function useUnread(): Unread {
  return useContext(UnreadContext) ?? OUTSIDE;
}

/** The sender as a toast names it: the system by its kind (a user's display name cannot pose
 * as it), a user with their @username. */
function senderOf(event: Record<string, unknown>): string {
  const name = typeof event.sender === "string" ? event.sender : "someone";
  if (event.sender_kind === "system") return `${name} (system)`;
  return typeof event.sender_username === "string" ? `${name} (@${event.sender_username})` : name;
}
