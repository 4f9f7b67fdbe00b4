import { useState } from "react";
import type { Account } from "../ui/TopBar";
import { ApiError, errorText } from "../api/client";
import { createGraph, deleteGraph, duplicateGraph, getGraph, saveGraph } from "../api/endpoints";
import { useGraphs } from "../api/hooks";
import type { GraphSummary } from "../api/types";
import { downloadSpec, FileProblem, pickFile, readSpecFile, saveDraft } from "../files";
import type { GraphSpec } from "../graph-core";
import { when } from "../format";
import { navigate } from "../router";
import { blankSpec, TEMPLATES } from "../templates";
import { Confirm, Modal } from "../ui/Modal";
import { toast } from "../ui/toasts";
import { TopBar } from "../ui/TopBar";

/** Create a flow from a document; one that is not valid yet opens as an unsaved draft with every problem pinned. */
async function createFromSpec(spec: GraphSpec, message: string): Promise<void> {
  try {
    const g = await createGraph(spec, message);
    toast.success(`“${g.name}” is ready.`);
    navigate(`/graphs/${g.id}`);
  } catch (e) {
    if (e instanceof ApiError && e.problems.length) {
      saveDraft("new", { spec, baseVersion: null, savedAt: Date.now(), problems: e.problems });
      toast.warning("The flow has problems to fix before it can be saved: they are marked on the canvas.");
      navigate("/graphs/new");
    } else {
      toast.error(errorText(e));
    }
  }
}

async function importFile(): Promise<void> {
  const file = await pickFile();
  if (!file) return;
  try {
    const spec = await readSpecFile(file);
    await createFromSpec(spec, `Imported from ${file.name}`);
  } catch (e) {
    toast.error(e instanceof FileProblem ? e.message : errorText(e));
  }
}

async function duplicate(g: GraphSummary, reload: () => void): Promise<void> {
  try {
    const copy = await duplicateGraph(g.id);
    toast.success(`Copied to “${copy.name}”.`);
    reload();
  } catch (e) { toast.error(errorText(e)); }
}

async function exportGraph(g: GraphSummary): Promise<void> {
  try {
    const detail = await getGraph(g.id);
    if (detail.spec) downloadSpec(detail.spec);
  } catch (e) { toast.error(errorText(e)); }
}

async function remove(g: GraphSummary, reload: () => void): Promise<void> {
  try {
    await deleteGraph(g.id);
    toast.success(`“${g.name}” was deleted.`);
    reload();
  } catch (e) { toast.error(errorText(e)); }
}

function GraphRow({ g, onRename, onDelete, reload }: { g: GraphSummary; onRename: () => void; onDelete: () => void; reload: () => void }) {
  return (
    <tr data-testid="graph-row">
      <td>
        <a href={`/graphs/${g.id}`} className="strong" onClick={(e) => { e.preventDefault(); navigate(`/graphs/${g.id}`); }}>{g.name}</a>
        {g.latest_version?.message ? <div className="muted small">{g.latest_version.message}</div> : null}
      </td>
      <td>v{g.latest_version?.number ?? "—"}</td>
      <td>{when(g.updated_at)}</td>
      <td>{g.latest_version?.author ?? "—"}</td>
      <td className="actions">
        <button className="btn btn-small" onClick={onRename}>Rename</button>
        <button className="btn btn-small" onClick={() => duplicate(g, reload)}>Duplicate</button>
        <button className="btn btn-small" onClick={() => exportGraph(g)}>Export</button>
        <button className="btn btn-small btn-danger-ghost" onClick={onDelete} data-testid="delete-graph">Delete</button>
      </td>
    </tr>
  );
}

export function GraphsPage({ account, workspace }: { account: Account; workspace: string }) {
  const graphs = useGraphs();
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<GraphSummary | null>(null);
  const [deleting, setDeleting] = useState<GraphSummary | null>(null);
  const [filter, setFilter] = useState("");

  const list = (graphs.data ?? []).filter((g) => g.name.toLowerCase().includes(filter.toLowerCase()));

  return (
    <div className="page">
      <TopBar account={account}><span className="muted">{workspace}</span></TopBar>
      <main className="graphs-page">
        <div className="row between">
          <h1>Your flows</h1>
          <div className="row">
            <input className="search" placeholder="Find a flow…" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Find a flow" />
            <button className="btn" onClick={importFile} data-testid="import-graph">Import file…</button>
            <button className="btn btn-primary" onClick={() => setCreating(true)} data-testid="new-graph">New flow</button>
          </div>
        </div>
        {graphs.error ? (
          <div className="notice notice-error" role="alert">
            {errorText(graphs.error)} <button className="btn btn-small" onClick={graphs.reload}>Try again</button>
          </div>
        ) : null}
        {graphs.loading && !graphs.data ? <p className="muted">Loading your flows…</p> : null}
        {graphs.data && graphs.data.length === 0 ? (
          <div className="empty">
            <h2>No flows yet</h2>
            <p>Start from a template: each one shows a pattern that holds up in production, and runs on demo models right away.</p>
            <button className="btn btn-primary" onClick={() => setCreating(true)}>Create your first flow</button>
          </div>
        ) : null}
        {list.length > 0 && (
          <table className="table" data-testid="graph-list">
            <thead>
              <tr><th>Name</th><th>Version</th><th>Last saved</th><th>By</th><th /></tr>
            </thead>
            <tbody>
              {list.map((g) => <GraphRow key={g.id} g={g} onRename={() => setRenaming(g)} onDelete={() => setDeleting(g)} reload={graphs.reload} />)}
            </tbody>
          </table>
        )}
      </main>
      {creating && <NewFlowDialog onClose={() => setCreating(false)} onCreate={createFromSpec} />}
      {renaming && <RenameDialog graph={renaming} onClose={() => setRenaming(null)} onDone={graphs.reload} />}
      {deleting && (
        <Confirm title="Delete this flow?" danger confirm="Delete for good"
          text={`“${deleting.name}” and all of its ${deleting.latest_version?.number ?? 0} version(s) and runs will be deleted. This cannot be undone. (Export it first to keep a copy.)`}
          onClose={() => setDeleting(null)}
          onConfirm={() => remove(deleting, graphs.reload)} />
      )}
    </div>
  );
}

function NewFlowDialog({ onClose, onCreate }: { onClose: () => void; onCreate: (spec: GraphSpec, message: string) => Promise<void> }) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const go = async (spec: GraphSpec, message: string) => {
    setBusy(true);
    await onCreate(name.trim() ? { ...structuredClone(spec), name: name.trim() } : structuredClone(spec), message);
    setBusy(false);
  };
  return (
    <Modal title="New flow" onClose={onClose} wide testId="new-flow-dialog">
      <label className="field">
        <span>Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. support-triage" autoFocus data-testid="new-flow-name" />
      </label>
      <div className="template-grid">
        <button className="template-card" disabled={busy} data-testid="template-blank" onClick={() => go(blankSpec(name.trim() || "untitled-flow"), "Created")}>
          <strong>Blank flow</strong>
          <span>An input and an output. Drag steps in from the palette.</span>
        </button>
        {TEMPLATES.map((t) => (
          <button key={t.file} className="template-card" disabled={busy} data-testid={`template-${t.file}`}
            onClick={() => go(t.spec, `Created from the ${t.file} template`)}>
            <strong>{t.spec.name}</strong>
            <span>{t.spec.description ?? "An example flow."}</span>
            <span className="chips">{t.types.map((ty) => <span key={ty} className="chip">{ty}</span>)}</span>
          </button>
        ))}
      </div>
    </Modal>
  );
}

function RenameDialog({ graph, onClose, onDone }: { graph: GraphSummary; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState(graph.name);
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal title="Rename flow" onClose={onClose}>
      <form onSubmit={async (e) => {
        e.preventDefault();
        try {
          const detail = await getGraph(graph.id);
          if (!detail.spec) return;
          await saveGraph(graph.id, { ...detail.spec, name: name.trim() }, `Renamed to ${name.trim()}`);
          toast.success("Renamed.");
          onDone();
          onClose();
        } catch (err) { setError(errorText(err)); }
      }}>
        <label className="field"><span>Name</span><input value={name} onChange={(e) => setName(e.target.value)} autoFocus required maxLength={200} /></label>
        <p className="muted small">Renaming saves a new version; the history keeps the old name.</p>
        {error && <div className="form-error">{error}</div>}
        <div className="row end"><button type="button" className="btn" onClick={onClose}>Cancel</button><button className="btn btn-primary" type="submit">Rename</button></div>
      </form>
    </Modal>
  );
}
