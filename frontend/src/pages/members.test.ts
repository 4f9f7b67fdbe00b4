import { describe, expect, it } from "vitest";
import type { Member, Members } from "../api/types";
import { rowActions } from "./members";

const m = (username: string, role: Member["role"], is_you = false): Member => ({ user_id: username.length, username, role, is_you });
const list = (can_manage: boolean, members: Member[]): Members => ({ workspace: 1, your_role: can_manage ? "admin" : "viewer", can_manage, roles: ["admin", "editor", "viewer"], members });

describe("rowActions", () => {
  it("lets an admin change and remove other members", () => {
    const l = list(true, [m("alice", "admin", true), m("bob", "viewer")]);
    expect(rowActions(l, l.members[1])).toEqual({ changeRole: true, remove: true, reason: "" });
  });
  it("holds the last admin in place, even for themselves", () => {
    const l = list(true, [m("alice", "admin", true), m("bob", "editor")]);
    expect(rowActions(l, l.members[0]).changeRole).toBe(false);
    expect(rowActions(l, l.members[0]).remove).toBe(false);
  });
  it("frees an admin once there is another", () => {
    const l = list(true, [m("alice", "admin", true), m("carol", "admin")]);
    expect(rowActions(l, l.members[0]).remove).toBe(true);
  });
  it("shows everything read-only to non-admins", () => {
    const l = list(false, [m("alice", "admin"), m("vic", "viewer", true)]);
    expect(l.members.map((x) => rowActions(l, x).changeRole)).toEqual([false, false]);
  });
});
