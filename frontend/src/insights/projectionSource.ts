/** Where a cost projection takes its inputs: the graph's recent runs, or a dataset's items. */
import type { Dataset } from "../api/evals";

const RECENT = 50;

/** The value of the source picker: "recent", or "dataset:<id>". */
export type SourceChoice = string;

/** What POST /api/graphs/<id>/projections/ is sent for a choice. */
export function projectionBody(choice: SourceChoice): { recent: number } | { dataset: number } {
  const id = /^dataset:(\d+)$/.exec(choice)?.[1];
  return id ? { dataset: Number(id) } : { recent: RECENT };
}

/** The picker's options, in plain words; a dataset with no items cannot be projected, so it is shown but off. */
export function sourceOptions(datasets: Dataset[]): { value: SourceChoice; label: string; disabled: boolean }[] {
  return [
    { value: "recent", label: `The last ${RECENT} runs`, disabled: false },
    ...datasets.map((d) => ({
      value: `dataset:${d.id}`, disabled: d.items === 0,
      label: `Dataset “${d.name}” (${d.items === null ? "items" : `${d.items} item${d.items === 1 ? "" : "s"}`})`,
    })),
  ];
}

/** The panel's sentence on what is being dry-run. */
export function sourceWords(choice: SourceChoice, datasets: Dataset[]): string {
  const body = projectionBody(choice);
  if ("recent" in body) return `the inputs of the last ${RECENT} runs`;
  const found = datasets.find((d) => d.id === body.dataset);
  return found ? `the inputs of the items of the dataset “${found.name}”` : "the inputs of the dataset's items";
}
