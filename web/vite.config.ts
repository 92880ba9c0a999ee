import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the dashboard on :5173 and forwards the API (and its WebSocket) to
// `merge-assist serve` on :8080, so the browser sees one origin as in production.
const api = process.env.MERGE_ASSIST_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    proxy: {
      "/api": { target: api, ws: true, changeOrigin: false },
      "/metrics": { target: api },
    },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
