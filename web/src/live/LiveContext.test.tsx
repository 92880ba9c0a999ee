import { act, render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { LiveUpdates, type SocketLike } from "../api/live";
import { LiveProvider, useLiveEvent, useOnReconnect } from "./LiveContext";

function controllable() {
  const sockets: SocketLike[] = [];
  const timers: (() => void)[] = [];
  const live = new LiveUpdates({
    createSocket: () => {
      const socket: SocketLike = { onopen: null, onmessage: null, onclose: null, onerror: null, send: () => undefined, close: () => undefined };
      sockets.push(socket);
      return socket;
    },
    setTimer: (callback) => timers.push(callback),
    clearTimer: () => undefined,
  });
  return { live, sockets, timers };
}

function Probe({ seen, reconnects }: { seen: string[]; reconnects: number[] }) {
  useLiveEvent(["mr.updated", "batch.updated"], (event) => seen.push(event.type));
  useOnReconnect(() => reconnects.push(1));
  return null;
}

describe("LiveContext", () => {
  it("delivers the subscribed event types and reports reconnections, not the first opening", () => {
    const { live, sockets, timers } = controllable();
    const seen: string[] = [];
    const reconnects: number[] = [];
    render(
      <LiveProvider live={live}>
        <Probe seen={seen} reconnects={reconnects} />
      </LiveProvider>,
    );
    live.start();
    act(() => sockets[0]?.onopen?.(new Event("open")));
    expect(reconnects).toHaveLength(0);
    for (const type of ["mr.updated", "log.appended", "batch.updated"]) {
      act(() => sockets[0]?.onmessage?.(new MessageEvent("message", { data: JSON.stringify({ type }) })));
    }
    expect(seen).toEqual(["mr.updated", "batch.updated"]);

    act(() => sockets[0]?.onclose?.(new CloseEvent("close")));
    act(() => timers.shift()?.());
    act(() => sockets[1]?.onopen?.(new Event("open")));
    expect(reconnects).toHaveLength(1);
  });
});
