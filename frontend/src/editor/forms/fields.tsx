/** Fields the schema alone cannot draw well: lists of words, JSON by nature, template-or-JSON values. */
import { useState } from "react";
import type { FieldProps, RegistryFieldsType } from "@rjsf/utils";
import type { Json, JsonSchema } from "../../graph-core";
import { TemplateField } from "../TemplateField";
import { BranchJoin } from "./BranchJoin";
import { testIdOf, type FormContext } from "./context";
import { allMessages, anyError } from "./errors";
import { JsonText } from "./JsonText";
import { SubgraphRefField } from "./SubgraphRefField";
import { ProblemLine } from "./templates";

/** Problems inside the value (below the field itself, whose own problems the field template shows). */
function nested(props: FieldProps): string[] {
  const own = (props.errorSchema?.__errors as string[] | undefined)?.length ?? 0;
  return allMessages(props.errorSchema).slice(own);
}

function NestedProblems({ messages }: { messages: string[] }) {
  return <>{messages.map((m, i) => <ProblemLine key={i} text={m} />)}</>;
}

/** Keywords, stop sequences: one per line. */
function StringListField(props: FieldProps) {
  const value = Array.isArray(props.formData) ? (props.formData as string[]) : [];
  return (
    <textarea className={`nodrag ${anyError(props.rawErrors) ? "invalid" : ""}`} rows={3} placeholder="one per line"
      data-testid={testIdOf(props.fieldPathId.$id)} value={value.join("\n")}
      onChange={(e) => {
        const lines = e.target.value.split("\n");
        props.onChange(lines.length === 1 && !lines[0] ? undefined : lines, props.fieldPathId.path);
      }} />
  );
}

/** A JSON schema, or any object the form has no fields for. */
function JsonField(props: FieldProps) {
  const schema = props.schema as JsonSchema;
  return (
    <>
      <JsonText value={props.formData as Json | undefined} objectOnly={schema.type === "object"} testId={testIdOf(props.fieldPathId.$id)}
        invalid={anyError(props.rawErrors)} onChange={(v) => props.onChange(v, props.fieldPathId.path)}
        placeholder={schema.type === "object" ? '{"type": "object", "properties": {…}}' : ""} />
      <NestedProblems messages={nested(props)} />
    </>
  );
}

/**
 * A value that is a template (the usual case: "{{ nodes.reply.output }}") or JSON holding templates
 * ({"answer": "{{ … }}"}). The output step also offers "the result of whichever of these ran".
 */
function TemplateValueField(props: FieldProps) {
  const ctx = props.registry.formContext as FormContext;
  const value = props.formData as Json | undefined;
  const [json, setJson] = useState(value !== undefined && typeof value !== "string");
  const set = (v: Json | undefined) => props.onChange(v, props.fieldPathId.path);
  const testId = testIdOf(props.fieldPathId.$id);
  const isStepValue = props.fieldPathId.path.length === 1 && props.fieldPathId.path[0] === "value";
  return (
    <>
      {json ? (
        <JsonText value={value} objectOnly={false} testId={testId} invalid={anyError(props.rawErrors)} onChange={set}
          placeholder='{"answer": "{{ nodes.step.output }}"}' />
      ) : (
        <TemplateField value={typeof value === "string" ? value : ""} onChange={(v) => set(v === "" && !props.required ? undefined : v)}
          suggestions={ctx.suggestions} testId={testId} invalid={anyError(props.rawErrors)} rows={3}
          placeholder="A template such as {{ nodes.step.output }}" />
      )}
      <button type="button" className="link template-mode" data-testid={`${testId}-mode`}
        onClick={() => { setJson(!json); if (json && typeof value !== "string") set(undefined); }}>
        {json ? "Write a template instead" : "Write JSON (an object or list of templates) instead"}
      </button>
      {isStepValue && ctx.joinable.length > 1 && !json && <BranchJoin steps={ctx.joinable} current={typeof value === "string" ? value : undefined} onPick={set} />}
      <NestedProblems messages={nested(props)} />
    </>
  );
}

export const fields: RegistryFieldsType = {
  stringList: StringListField, json: JsonField, templateValue: TemplateValueField, subgraphRef: SubgraphRefField,
};
