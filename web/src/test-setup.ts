import { afterEach } from "vitest";

// Only the DOM environment has a document to clean; Node-environment tests skip this.
if (typeof document !== "undefined") {
  await import("@testing-library/jest-dom/vitest");
  // Unit tests have no server to stream live updates from: refuse sockets at once (the
  // client then backs off quietly) instead of letting the test DOM dial a real port.
  globalThis.WebSocket = class {
    constructor() {
      throw new Error("no WebSocket server in unit tests");
    }
  } as unknown as typeof WebSocket;
  const { cleanup } = await import("@testing-library/react");
  afterEach(() => {
    cleanup();
    localStorage.clear();
    document.documentElement.className = "";
  });
}
