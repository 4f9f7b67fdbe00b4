/** What the Members page offers for one row: pure, so it is tested without React. */
import type { Member, Members, Role } from "../api/types";

export const ROLE_HELP: Record<Role, string> = {
  viewer: "reads flows, prompts, runs and endpoints",
  editor: "also changes flows and prompts, runs them, and moves the staging label",
  admin: "also publishes, moves production, and manages API keys, members, retention and the spend cap",
};

export interface RowActions {
  /** The role can be changed here (admins only; never the last admin's). */
  changeRole: boolean;
  remove: boolean;
  /** Why a control is off, shown as its tooltip. */
  reason: string;
}

export function rowActions(list: Members, member: Member): RowActions {
  if (!list.can_manage) return { changeRole: false, remove: false, reason: "Only admins change members." };
  const admins = list.members.filter((m) => m.role === "admin").length;
  if (member.role === "admin" && admins <= 1) {
    return { changeRole: false, remove: false, reason: "The last admin: make someone else admin first." };
  }
  return { changeRole: true, remove: true, reason: "" };
}
