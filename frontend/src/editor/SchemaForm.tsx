/**
 * A step's settings as a form generated from its type's config JSON schema by rjsf: no form is
 * written by hand for any node type, so new types appear with a working form. Our widgets
 * (templates with `{{ }}` completion, model aliases, saved graphs) and templates (the panel's
 * style, list editors for lists of objects) replace rjsf's defaults.
 */
import { useMemo } from "react";
import Form from "@rjsf/core";
import type { IChangeEvent } from "@rjsf/core";
import { customizeValidator } from "@rjsf/validator-ajv8";
import type { RJSFSchema } from "@rjsf/utils";
import type { JsonObject, JsonSchema, PinnedProblem } from "../graph-core";
import type { FormContext } from "./forms/context";
import { placeProblems, WARNING_PREFIX } from "./forms/errors";
import { fields } from "./forms/fields";
import { ProblemLine, templates } from "./forms/templates";
import { formSchema, uiSchemaFor } from "./forms/uiSchema";
import { widgets } from "./forms/widgets";

// The server validates (POST /api/graphs/validate/); rjsf's validator only resolves schemas.
const validator = customizeValidator({ customFormats: { template: () => true, "graph-ref": () => true } });

/** rjsf fills nothing in by itself: defaults are applied once, when a step is dropped (graph-core/schema.ts). */
const NO_DEFAULTS = {
  emptyObjectFields: "skipDefaults",
  arrayMinItems: { populate: "never" },
  constAsDefaults: "never",
} as const;

export function ConfigForm(props: {
  schema: JsonSchema;
  value: JsonObject;
  /** Errors and warnings of this step: each is shown once, beside its field or above the form. */
  problems: PinnedProblem[];
  context: FormContext;
  onChange: (config: JsonObject) => void;
}) {
  const schema = useMemo(() => formSchema(props.schema) as RJSFSchema, [props.schema]);
  const uiSchema = useMemo(() => ({ ...uiSchemaFor("", props.schema), "ui:submitButtonOptions": { norender: true } }), [props.schema]);
  const placed = useMemo(() => placeProblems(props.problems, props.schema), [props.problems, props.schema]);
  return (
    <>
      {placed.general.map((p, i) => <ProblemLine key={i} text={p.severity === "warning" ? `${WARNING_PREFIX}${p.text}` : p.text} />)}
      <Form
        className="config-form"
        schema={schema}
        uiSchema={uiSchema}
        formData={props.value}
        formContext={props.context}
        validator={validator}
        widgets={widgets}
        fields={fields}
        templates={templates}
        extraErrors={placed.errorSchema}
        noValidate
        showErrorList={false}
        idPrefix={`cfg-${props.context.nodeId}`}
        idSeparator="."
        experimental_defaultFormStateBehavior={NO_DEFAULTS}
        onChange={(e: IChangeEvent) => props.onChange((e.formData ?? {}) as JsonObject)}
        onSubmit={() => undefined}
      />
    </>
  );
}
