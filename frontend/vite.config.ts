import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Django serves the build: assets under STATIC_URL (/static/), index.html for every client route.
export default defineConfig({
  base: "/static/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1200 },
  server: {
    fs: { allow: [".."] }, // the example graphs in ../graphs are bundled as templates
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/admin": "http://127.0.0.1:8000",
      "/ws": { target: "ws://127.0.0.1:8000", ws: true },
    },
  },
  test: { include: ["src/**/*.test.ts", "src/**/*.test.tsx"], environment: "node" },
});
