/** One dataset: its items, import and export, live sampling. */
import { useEffect, useState } from "react";
import { type Dataset, deleteDataset, deleteItem, exportUrl, getDataset, importItems, setSampling, updateDataset } from "../api/evals";
import { api, errorText } from "../api/client";
import { pretty } from "../format";
import { navigate } from "../router";
import { toast } from "../ui/toasts";

function ImportBox({ id, onDone }: { id: number; onDone: () => void }) {
  const [format, setFormat] = useState<"jsonl" | "csv">("jsonl");
  const [text, setText] = useState("");
  const [problems, setProblems] = useState<string[]>([]);
  const send = async () => {
    try {
      const { added } = await importItems(id, format, text);
      toast.success(`Added ${added} items.`);
      setText("");
      setProblems([]);
      onDone();
    } catch (e) {
      const found = (e as { problems?: { path: string; message: string }[] }).problems ?? [];
      setProblems(found.length ? found.map((p) => `${p.path}: ${p.message}`) : [errorText(e)]);
    }
  };
  const readFile = async (file: File | undefined) => {
    if (!file) return;
    setFormat(file.name.endsWith(".csv") ? "csv" : "jsonl");
    setText(await file.text());
  };
  return (
    <details className="import-box">
      <summary data-testid="dataset-import-open">Import items from a file</summary>
      <div className="row">
        <select aria-label="File format" value={format} onChange={(e) => setFormat(e.target.value as "jsonl" | "csv")} data-testid="import-format">
          <option value="jsonl">JSON lines</option>
          <option value="csv">CSV (columns: input, expected, labels)</option>
        </select>
        <input type="file" accept=".jsonl,.csv,.txt" onChange={(e) => readFile(e.target.files?.[0])} aria-label="Choose a file" />
      </div>
      <textarea rows={4} value={text} onChange={(e) => setText(e.target.value)} aria-label="Items to import" data-testid="import-text" placeholder='{"input": {"message": "..."}, "expected": "...", "labels": {"route": "billing"}}' />
      <button className="btn" disabled={!text.trim()} onClick={send} data-testid="import-send">Import</button>
      {problems.length > 0 && <ul className="error small" role="alert" data-testid="import-problems">{problems.map((p) => <li key={p}>{p}</li>)}</ul>}
    </details>
  );
}

function Sampling({ dataset, onDone }: { dataset: Dataset; onDone: () => void }) {
  const [graphs, setGraphs] = useState<{ id: number; name: string }[]>([]);
  const [graph, setGraph] = useState("");
  const [rate, setRate] = useState("10");
  useEffect(() => { api<{ id: number; name: string }[]>("GET", "/api/graphs/").then(setGraphs, () => undefined); }, []);
  const name = (id: number) => graphs.find((g) => g.id === id)?.name ?? `flow ${id}`;
  const save = async () => {
    try {
      await setSampling(dataset.id, Number(graph), Number(rate) / 100);
      toast.success(Number(rate) ? `Copying ${rate} % of ${name(Number(graph))}'s endpoint calls here.` : "Sampling stopped.");
      onDone();
    } catch (e) {
      toast.error(errorText(e));
    }
  };
  return (
    <div className="sampling small" data-testid="sampling">
      <span>Copy live endpoint calls of</span>
      <select aria-label="Flow to sample" value={graph} onChange={(e) => setGraph(e.target.value)} data-testid="sampling-graph">
        <option value="">pick a flow…</option>
        {graphs.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
      </select>
      <span>into this dataset: </span>
      <input aria-label="Percent of calls" type="number" min={0} max={100} value={rate} onChange={(e) => setRate(e.target.value)} data-testid="sampling-rate" />
      <span>% of them (0 stops)</span>
      <button className="btn btn-small" disabled={!graph} onClick={save} data-testid="sampling-save">Save</button>
      {dataset.sampling.length > 0 && <span className="muted">Now: {dataset.sampling.map((r) => `${Math.round(r.rate * 100)} % of ${name(r.graph)}`).join(", ")}</span>}
    </div>
  );
}

function Items({ dataset, onDone }: { dataset: Dataset; onDone: () => void }) {
  const items = dataset.item_list ?? [];
  if (!items.length) return <p className="muted">No items yet.</p>;
  return (
    <table className="table" data-testid="dataset-items">
      <thead><tr><th>Input</th><th>Expected answer</th><th>Labels</th><th>From run</th><th /></tr></thead>
      <tbody>
        {items.map((i) => (
          <tr key={i.id} data-testid="dataset-item">
            <td><pre className="cell-json">{pretty(i.input)}</pre></td>
            <td><pre className="cell-json">{i.expected === null ? "–" : pretty(i.expected)}</pre></td>
            <td>{Object.entries(i.labels).map(([k, v]) => `${k}: ${String(v)}`).join(", ") || "–"}</td>
            <td className="small">{i.source_run ? i.source_run.slice(0, 8) : "–"}</td>
            <td className="actions"><button className="btn btn-small btn-danger-ghost" onClick={() => deleteItem(dataset.id, i.id).then(onDone)}>Remove</button></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DatasetDetail({ id, onChanged }: { id: number; onChanged: () => void }) {
  const [dataset, setDataset] = useState<Dataset | null>(null);
  const [error, setError] = useState("");
  const load = () => { getDataset(id).then(setDataset, (e) => setError(errorText(e))); onChanged(); };
  useEffect(() => { getDataset(id).then(setDataset, (e) => setError(errorText(e))); }, [id]);
  if (error) return <div className="notice notice-error" role="alert">{error}</div>;
  if (!dataset) return <p className="muted">Loading…</p>;
  const toggle = () => updateDataset(id, { held_out: !dataset.held_out }).then(load, (e) => toast.error(errorText(e)));
  const remove = () => {
    if (window.confirm(`Delete "${dataset.name}" and its ${dataset.item_list?.length ?? 0} items? Eval runs on it go too.`)) {
      deleteDataset(id).then(() => navigate("/datasets"), (e) => toast.error(errorText(e)));
    }
  };
  return (
    <section data-testid="dataset-detail">
      <a href="/datasets" onClick={(e) => { e.preventDefault(); navigate("/datasets"); }} className="small">← All datasets</a>
      <div className="row between">
        <h1 data-testid="dataset-title">{dataset.name}</h1>
        <div className="row">
          <label className="small"><input type="checkbox" checked={dataset.held_out} onChange={toggle} data-testid="dataset-held-out-toggle" /> Held out</label>
          <a className="btn btn-small" href={exportUrl(id, "jsonl")} data-testid="export-jsonl">Download JSON lines</a>
          <a className="btn btn-small" href={exportUrl(id, "csv")} data-testid="export-csv">Download CSV</a>
          <button className="btn btn-small btn-primary" onClick={() => navigate(`/evals?dataset=${id}`)} data-testid="dataset-start-eval">Run an eval</button>
          <button className="btn btn-small btn-danger-ghost" onClick={remove} data-testid="dataset-delete">Delete</button>
        </div>
      </div>
      <p className="muted small">{dataset.item_list?.length ?? 0} items{dataset.held_out ? " · held out: used only for scoring" : ""}</p>
      <Sampling dataset={dataset} onDone={load} />
      <ImportBox id={id} onDone={load} />
      <Items dataset={dataset} onDone={load} />
    </section>
  );
}
