/**
 * One `LiveUpdates` socket shared by every signed-in page: the shell opens it, pages listen to
 * the event types they show (`useLiveEvent`), the header shows its status (`useLiveStatus`).
 */
import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from "react";
import { type LiveEvent, type LiveStatus, LiveUpdates } from "../api/live";

const LiveContext = createContext<LiveUpdates | null>(null);

export interface LiveProviderProps {
  children: ReactNode;
  /** A connection made elsewhere (tests); the provider then neither starts nor stops it. */
  live?: LiveUpdates;
  /** The access token for the socket's first message (when the provider opens its own). */
  getToken?: () => string | null;
  /** Renews the access token after the server closed the socket for it (4401). */
  renewToken?: () => Promise<unknown>;
}

/** Opens the live-updates socket for as long as it is mounted (unless given one). */
export function LiveProvider({ children, live, getToken, renewToken }: LiveProviderProps) {
  const [own] = useState(
    () =>
      live ??
      new LiveUpdates({ getToken: getToken ?? (() => null), ...(renewToken && { renewToken }) }),
  );
  useEffect(() => {
    if (live) return undefined;
    own.start();
    return () => own.stop();
  }, [own, live]);
  return <LiveContext.Provider value={own}>{children}</LiveContext.Provider>;
}

/** Call `handler` for each live event of `type` (several types: one subscription each). */
export function useLiveEvent(type: string | string[], handler: (event: LiveEvent) => void): void {
  const live = useContext(LiveContext);
  const latest = useRef(handler);
  latest.current = handler;
  const key = Array.isArray(type) ? type.join(" ") : type;
  useEffect(() => {
    if (!live) return undefined;
    const stops = key.split(" ").map((name) => live.subscribe(name, (event) => latest.current(event)));
    return () => {
      for (const stop of stops) stop();
    };
  }, [live, key]);
}

/** The socket's state, for the header's dot. */
export function useLiveStatus(): LiveStatus {
  const live = useContext(LiveContext);
  const [status, setStatus] = useState<LiveStatus>(live?.status ?? "idle");
  useEffect(() => {
    if (!live) return undefined;
    setStatus(live.status);
    return live.onStatus(setStatus);
  }, [live]);
  return status;
}

/**
 * Call `callback` each time the socket opens again after a break: events sent meanwhile were
 * missed, so whatever a page shows should be read again.
 */
export function useOnReconnect(callback: () => void): void {
  const live = useContext(LiveContext);
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => {
    if (!live) return undefined;
    let openedBefore = live.status === "open";
    return live.onStatus((status) => {
      if (status !== "open") return;
      if (openedBefore) latest.current();
      openedBefore = true;
    });
  }, [live]);
}
