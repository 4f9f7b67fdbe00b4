/** Workspace members: everyone sees who is in and their role; admins invite, change roles and remove. */
import { useCallback, useEffect, useState } from "react";
import type { Account } from "../ui/TopBar";
import { errorText } from "../api/client";
import { changeMemberRole, inviteMember, listMembers, removeMember } from "../api/endpoints";
import type { Member, Members, Role } from "../api/types";
import { Confirm } from "../ui/Modal";
import { toast } from "../ui/toasts";
import { TopBar } from "../ui/TopBar";
import { ROLE_HELP, rowActions } from "./members";
import { SpendCapPanel } from "./SpendCapPanel";

export function MembersPage({ account, workspace }: { account: Account; workspace: { id: number; name: string } }) {
  const [list, setList] = useState<Members | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);

  const reload = useCallback(() => listMembers(workspace.id).then((l) => { setList(l); setError(null); }, (e) => setError(errorText(e))), [workspace.id]);
  useEffect(() => { reload(); }, [reload]);

  const changeRole = async (member: Member, role: Role) => {
    try {
      await changeMemberRole(workspace.id, member.user_id, role);
      toast.success(`${member.username} is now ${role === "admin" ? "an" : "a"} ${role}.`);
    } catch (e) { toast.error(errorText(e)); }
    reload();
  };

  return (
    <div className="page">
      <TopBar account={account}><span className="muted">{workspace.name}</span></TopBar>
      <main className="graphs-page members-page" data-testid="members-page">
        <div className="row between">
          <h1>Members of {workspace.name}</h1>
          {list && <span className="muted" data-testid="your-role">You are {list.your_role === "admin" ? "an" : "a"} {list.your_role}</span>}
        </div>
        {error && <div className="notice notice-error" role="alert">{error} <button className="btn btn-small" onClick={reload}>Try again</button></div>}
        {!list && !error && <p className="muted">Loading members…</p>}
        {list && <SpendCapPanel workspace={workspace.id} canManage={list.can_manage} />}
        {list?.can_manage && <InviteForm workspace={workspace.id} roles={list.roles} onDone={reload} />}
        {list && (
          <table className="table" data-testid="member-list">
            <thead><tr><th>Member</th><th>Role</th><th /></tr></thead>
            <tbody>
              {list.members.map((m) => {
                const can = rowActions(list, m);
                return (
                  <tr key={m.user_id} data-testid="member-row">
                    <td className="strong">{m.username}{m.is_you ? <span className="muted"> (you)</span> : null}</td>
                    <td>
                      {list.can_manage ? (
                        <select value={m.role} disabled={!can.changeRole} title={can.reason || ROLE_HELP[m.role]}
                          aria-label={`Role of ${m.username}`} data-testid="member-role"
                          onChange={(e) => changeRole(m, e.target.value as Role)}>
                          {list.roles.map((r) => <option key={r} value={r}>{r}</option>)}
                        </select>
                      ) : (
                        <span title={ROLE_HELP[m.role]} data-testid="member-role-text">{m.role}</span>
                      )}
                    </td>
                    <td className="actions">
                      {list.can_manage && (
                        <button className="btn btn-small btn-danger-ghost" disabled={!can.remove} title={can.reason}
                          onClick={() => setRemoving(m)} data-testid="remove-member">Remove</button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <ul className="muted small" data-testid="role-help">
          {(["viewer", "editor", "admin"] as Role[]).map((r) => <li key={r}><b>{r}</b>: {ROLE_HELP[r]}</li>)}
        </ul>
      </main>
      {removing && (
        <Confirm title={`Remove ${removing.username}?`} danger confirm="Remove"
          text={`${removing.username} will no longer see or change anything in ${workspace.name}. Their flows, runs and keys stay with the workspace.`}
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            try {
              await removeMember(workspace.id, removing.user_id);
              toast.success(`${removing.username} was removed.`);
            } catch (e) { toast.error(errorText(e)); }
            reload();
          }} />
      )}
    </div>
  );
}

function InviteForm({ workspace, roles, onDone }: { workspace: number; roles: Role[]; onDone: () => void }) {
  const [who, setWho] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const added = await inviteMember(workspace, who.trim(), role);
      toast.success(`${added.username} joined as ${added.role}.`);
      setWho("");
      setProblem(null);
      onDone();
    } catch (err) { setProblem(errorText(err)); }
    setBusy(false);
  };
  return (
    <form className="row members-invite" onSubmit={submit} data-testid="invite-form">
      <input className="search" placeholder="Username or email of an existing account" value={who}
        onChange={(e) => setWho(e.target.value)} aria-label="Username or email" data-testid="invite-user" />
      <select value={role} onChange={(e) => setRole(e.target.value as Role)} aria-label="Role" data-testid="invite-role">
        {roles.map((r) => <option key={r} value={r}>{r}</option>)}
      </select>
      <button className="btn btn-primary" disabled={busy || !who.trim()} data-testid="invite-submit">Add member</button>
      {problem && <span className="form-error" role="alert" data-testid="invite-problem">{problem}</span>}
    </form>
  );
}
