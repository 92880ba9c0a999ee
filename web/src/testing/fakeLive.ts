/** A real `LiveUpdates` over a fake socket: tests push server events with `emit`. */
import { act } from "@testing-library/react";
import { type LiveEvent, LiveUpdates, type SocketLike } from "../api/live";

export function fakeLive() {
  let socket: SocketLike | null = null;
  const live = new LiveUpdates({
    getToken: () => "token",
    createSocket: () => {
      socket = {
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
        send: () => undefined,
        close: () => undefined,
      };
      return socket;
    },
  });
  live.start();
  (socket as SocketLike | null)?.onopen?.(new Event("open"));
  return {
    live,
    /** Deliver one event as if the server sent it. */
    emit(event: LiveEvent) {
      act(() => {
        (socket as SocketLike | null)?.onmessage?.(new MessageEvent("message", { data: JSON.stringify(event) }));
      });
    },
  };
}
