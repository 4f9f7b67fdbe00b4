/** Start an eval: a dataset, a flow (and optionally a candidate prompt version, or another model for one step),
 * and what to check. */
import { useEffect, useState } from "react";
import { api, errorText } from "../api/client";
import { getGraph } from "../api/endpoints";
import { type Dataset, listDatasets, startEval } from "../api/evals";
import { loadModels } from "../api/hooks";
import type { ModelAlias } from "../api/types";
import { navigate } from "../router";
import { type ModelStep, modelSteps } from "./candidateWords";
import { defaultChoices, type ScorerChoice, toScorers } from "./scorerChoices";

function ScorerPicker({ choices, onChange }: { choices: ScorerChoice[]; onChange: (c: ScorerChoice[]) => void }) {
  const set = (i: number, patch: Partial<ScorerChoice>) => onChange(choices.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  return (
    <fieldset className="scorer-picker">
      <legend>What to check on every answer</legend>
      {choices.map((c, i) => (
        <div key={c.type} className="row small">
          <label><input type="checkbox" checked={c.on} onChange={(e) => set(i, { on: e.target.checked })} data-testid={`scorer-${c.type}`} /> {c.label}</label>
          {c.on && c.setting && (
            <input aria-label={c.setting.label} placeholder={c.setting.label} value={c.setting.value} data-testid={`scorer-${c.type}-setting`}
              onChange={(e) => set(i, { setting: { ...c.setting!, value: e.target.value } })} />
          )}
        </div>
      ))}
    </fieldset>
  );
}

/** "Try a different model for step X": a model step of the flow and another (switched-on) model alias. */
function ModelSwap({ steps, models, step, model, onStep, onModel }: {
  steps: ModelStep[]; models: ModelAlias[]; step: string; model: string; onStep: (s: string) => void; onModel: (m: string) => void;
}) {
  if (!steps.length) return null;
  const current = steps.find((s) => s.id === step);
  return (
    <div className="row small" data-testid="eval-model-swap">
      <label htmlFor="eval-model-step">Try a different model for step</label>
      <select id="eval-model-step" value={step} onChange={(e) => { onStep(e.target.value); onModel(""); }} data-testid="eval-model-step">
        <option value="">(no change)</option>
        {steps.map((s) => <option key={s.id} value={s.id}>{s.id} (now {s.model || "no model"})</option>)}
      </select>
      {current && (
        <select aria-label="Model to try" value={model} onChange={(e) => onModel(e.target.value)} data-testid="eval-model-alias">
          <option value="">Pick a model…</option>
          {models.filter((m) => m.alias !== current.model && m.enabled).map((m) => (
            <option key={m.alias} value={m.alias}>{m.alias}{m.demo ? " · demo" : ""}</option>
          ))}
        </select>
      )}
    </div>
  );
}

export function StartEval() {
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  const [graphs, setGraphs] = useState<{ id: number; name: string }[]>([]);
  const [dataset, setDataset] = useState(new URLSearchParams(location.search).get("dataset") ?? "");
  const [graph, setGraph] = useState("");
  const [candidate, setCandidate] = useState("");
  const [steps, setSteps] = useState<ModelStep[]>([]);
  const [models, setModels] = useState<ModelAlias[]>([]);
  const [swapStep, setSwapStep] = useState("");
  const [swapModel, setSwapModel] = useState("");
  const [choices, setChoices] = useState(defaultChoices);
  const [error, setError] = useState("");
  useEffect(() => {
    listDatasets().then(setDatasets, () => undefined);
    api<{ id: number; name: string }[]>("GET", "/api/graphs/").then(setGraphs, () => undefined);
    loadModels().then(setModels, () => undefined);
  }, []);
  useEffect(() => {
    setSteps([]);
    setSwapStep("");
    setSwapModel("");
    if (graph) getGraph(Number(graph)).then((g) => setSteps(modelSteps(g.spec)), () => undefined);
  }, [graph]);
  const start = async () => {
    try {
      const run = await startEval({
        dataset: Number(dataset), graph: Number(graph), candidate_prompt: candidate.trim(), scorers: toScorers(choices),
        ...(swapStep ? { candidate_model: { node: swapStep, model: swapModel } } : {}),
      });
      navigate(`/evals/${run.id}`);
    } catch (e) {
      const problems = (e as { problems?: { path: string; message: string }[] }).problems ?? [];
      setError([errorText(e), ...problems.map((p) => `${p.path}: ${p.message}`)].join(" · "));
    }
  };
  return (
    <section className="start-eval" data-testid="start-eval">
      <h2>Start an eval</h2>
      <div className="row">
        <select aria-label="Dataset" value={dataset} onChange={(e) => setDataset(e.target.value)} data-testid="eval-dataset">
          <option value="">Pick a dataset…</option>
          {datasets.map((d) => <option key={d.id} value={d.id}>{d.name} ({d.items ?? 0} items)</option>)}
        </select>
        <select aria-label="Flow" value={graph} onChange={(e) => setGraph(e.target.value)} data-testid="eval-graph">
          <option value="">Pick a flow…</option>
          {graphs.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
        </select>
        <input aria-label="Try a prompt version (optional)" placeholder="Try a prompt version, e.g. greet@4 (optional)" value={candidate} onChange={(e) => setCandidate(e.target.value)} data-testid="eval-candidate" />
      </div>
      <ModelSwap steps={steps} models={models} step={swapStep} model={swapModel} onStep={setSwapStep} onModel={setSwapModel} />
      <ScorerPicker choices={choices} onChange={setChoices} />
      <button className="btn btn-primary" disabled={!dataset || !graph || (!!swapStep && !swapModel)} onClick={start} data-testid="eval-start">Start the eval</button>
      {error && <div className="notice notice-error" role="alert" data-testid="eval-start-error">{error}</div>}
    </section>
  );
}
