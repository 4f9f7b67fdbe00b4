import { describe, expect, it } from "vitest";
import type { Endpoint } from "../../api/types";
import { liveIndicator, mainEndpoint, slugProblem, suggestSlug } from "./liveVersion";
import { snippetTabs } from "./snippetTabs";

const ep = (status: Endpoint["status"], version: number | null, latest: number | null, slug = "triage") =>
  ({ status, version, latest_version: latest, slug }) as Endpoint;

describe("the live-version indicator", () => {
  it("says nothing for a flow never published", () => {
    expect(liveIndicator(null, 3)).toBeNull();
    expect(liveIndicator(ep("draft", null, 2), 2)).toBeNull();
  });

  it("names the live version when it is the newest saved one", () => {
    expect(liveIndicator(ep("live", 4, 4), 4)).toMatchObject({ tone: "live", text: "Live: v4" });
  });

  it("warns when newer versions are saved but not published", () => {
    expect(liveIndicator(ep("live", 3, 5), 5)).toMatchObject({ tone: "behind", text: "Live: v3 · v5 not published" });
  });

  it("counts a save made in the editor after the endpoint was loaded", () => {
    expect(liveIndicator(ep("live", 4, 4), 6)?.text).toBe("Live: v4 · v6 not published");
    // A stale editor version never hides what the server knows is newer.
    expect(liveIndicator(ep("live", 4, 7), 5)?.text).toBe("Live: v4 · v7 not published");
  });

  it("after a rollback, the older live version is behind", () => {
    expect(liveIndicator(ep("live", 1, 2), 2)).toMatchObject({ tone: "behind", text: "Live: v1 · v2 not published" });
  });

  it("says an unpublished endpoint is off, with the version it had", () => {
    expect(liveIndicator(ep("off", 2, 2), 2)).toMatchObject({ tone: "off", text: "Unpublished (was v2)" });
  });

  it("shows the live endpoint of a flow published under several slugs", () => {
    expect(mainEndpoint([ep("off", 1, 1, "a"), ep("live", 1, 1, "b"), ep("draft", null, 1, "c")])?.slug).toBe("b");
    expect(mainEndpoint([])).toBeNull();
  });
});

describe("the suggested slug", () => {
  it("keeps what the server accepts", () => {
    expect(suggestSlug("Support triage — v2!")).toBe("support-triage-v2");
    expect(suggestSlug("Café  Übersicht")).toBe("cafe-ubersicht");
    expect(suggestSlug("!!!")).toBe("flow");
    expect(suggestSlug("a".repeat(70)).length).toBe(64);
    for (const name of ["Support triage — v2!", "!!!", "-x-", "a".repeat(70)]) expect(slugProblem(suggestSlug(name))).toBeNull();
  });

  it("refuses before sending what the server would refuse", () => {
    expect(slugProblem("Not a slug!")).toMatch(/lowercase letters/);
    expect(slugProblem("-edge")).not.toBeNull();
    expect(slugProblem("a".repeat(65))).not.toBeNull();
    expect(slugProblem("ok-1")).toBeNull();
  });
});

describe("the snippet tabs", () => {
  it("shows every snippet the server sends, known ones named and in order", () => {
    const tabs = snippetTabs({ openai_curl: "c", javascript: "j", zig_client: "z", curl: "x", python: "p",
      openai_python: "op", openai_javascript: "oj", curl_stream: "s" });
    expect(tabs.map((t) => t.label)).toEqual(["curl", "curl · stream", "Python", "JavaScript", "OpenAI · Python",
      "OpenAI · JavaScript", "OpenAI · curl", "zig client"]);
    expect(tabs.find((t) => t.key === "openai_python")?.code).toBe("op");
  });

  it("has no tab for a missing snippet", () => {
    expect(snippetTabs({ curl: "x" }).map((t) => t.key)).toEqual(["curl"]);
  });
});
