// @vitest-environment node
import { describe, expect, it } from "vitest";
import { backoffDelay, defaultUpdatesUrl, type LiveEvent, LiveUpdates, type SocketLike } from "./live";

/** A socket the test opens, feeds and closes by hand, and a clock it advances by hand. */
class FakeSocket implements SocketLike {
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.(new Event("open"));
  }
  receive(data: string) {
    this.onmessage?.({ data } as MessageEvent);
  }
  drop() {
    this.onerror?.(new Event("error"));
    this.onclose?.({ code: 1006 } as CloseEvent);
  }
  refuse() {
    this.onclose?.({ code: 4401 } as CloseEvent);
  }
}

function harness(token: string | null = "secret-token", renewToken?: () => Promise<unknown>) {
  const sockets: FakeSocket[] = [];
  const timers: { callback: () => void; ms: number }[] = [];
  const live = new LiveUpdates({
    url: "ws://example.test/api/ws/updates",
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    getToken: () => token,
    ...(renewToken && { renewToken }),
    setTimer: (callback, ms) => timers.push({ callback, ms }),
    clearTimer: () => {
      timers.length = 0;
    },
  });
  const fire = () => timers.shift()?.callback();
  return { live, sockets, timers, fire, last: () => sockets[sockets.length - 1]! };
}

describe("LiveUpdates", () => {
  it("renews its token before reconnecting when the server refuses it (4401)", async () => {
    const renewals: string[] = [];
    const { live, timers, fire, last } = harness("secret-token", async () => {
      renewals.push("refresh");
    });
    live.start();
    last().open();
    last().drop();
    expect(renewals).toEqual([]); // an ordinary drop just reconnects
    fire();
    last().open();
    last().refuse();
    expect(timers).toEqual([]); // not before the token is renewed
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(renewals).toEqual(["refresh"]);
    expect(timers.length).toBe(1);
    fire();
    expect(live.status).toBe("connecting");
  });

  it("authenticates with a first message, never in the URL, and delivers events", () => {
    const { live, last } = harness();
    const received: LiveEvent[] = [];
    live.subscribe("mr.updated", (event) => received.push(event));
    const everything: string[] = [];
    live.subscribe("*", (event) => everything.push(event.type));
    live.start();
    expect(last().url).toBe("ws://example.test/api/ws/updates");
    last().open();
    expect(live.status).toBe("open");
    expect(last().sent).toEqual([JSON.stringify({ type: "auth", token: "secret-token" })]);
    last().receive(JSON.stringify({ type: "mr.updated", id: 7 }));
    last().receive(JSON.stringify({ type: "vault.locked", path: "a.bin" }));
    last().receive("not json");
    expect(received).toEqual([{ type: "mr.updated", id: 7 }]);
    expect(everything).toEqual(["mr.updated", "vault.locked"]);
  });

  it("reconnects with doubling delays after a drop", () => {
    const { live, sockets, timers, fire, last } = harness();
    live.start();
    last().open();
    last().drop();
    expect(live.status).toBe("waiting");
    expect(timers.map((t) => t.ms)).toEqual([1000]);
    fire();
    last().drop();
    expect(timers.map((t) => t.ms)).toEqual([2000]);
    fire();
    last().drop();
    expect(timers.map((t) => t.ms)).toEqual([4000]);
    fire();
    last().open(); // back: the delays start over
    last().drop();
    expect(timers.map((t) => t.ms)).toEqual([1000]);
    expect(sockets).toHaveLength(4);
  });

  it("goes quiet when the server has no live updates", () => {
    const { live, sockets, timers, fire, last } = harness();
    const statuses: string[] = [];
    live.onStatus((status) => statuses.push(status));
    live.start();
    for (let attempt = 0; attempt < 4; attempt += 1) {
      last().drop();
      fire();
    }
    expect(live.status).toBe("unavailable");
    expect(sockets).toHaveLength(4);
    expect(timers).toHaveLength(0);
    expect(statuses.at(-1)).toBe("unavailable");
  });

  it("stops retrying when stopped", () => {
    const { live, timers, last } = harness();
    live.start();
    last().open();
    const socket = last();
    live.stop();
    expect(socket.closed).toBe(true);
    socket.drop();
    expect(timers).toHaveLength(0);
    expect(live.status).toBe("idle");
  });

  it("caps the delay", () => {
    expect(backoffDelay(0, 1000, 30000)).toBe(1000);
    expect(backoffDelay(3, 1000, 30000)).toBe(8000);
    expect(backoffDelay(10, 1000, 30000)).toBe(30000);
    expect(backoffDelay(1000, 1000, 30000)).toBe(30000);
  });

  it("uses wss on https pages", () => {
    expect(defaultUpdatesUrl({ protocol: "https:", host: "ma.example.com" } as Location)).toBe(
      "wss://ma.example.com/api/ws/updates",
    );
    expect(defaultUpdatesUrl({ protocol: "http:", host: "127.0.0.1:8080" } as Location)).toBe(
      "ws://127.0.0.1:8080/api/ws/updates",
    );
  });
});
