/** rjsf templates in the side panel's own style: a label above each field, its problems beside it, list editors. */
import { isValidElement, type ReactNode } from "react";
import type {
  ArrayFieldItemTemplateProps, ArrayFieldTemplateProps, FieldErrorProps, FieldTemplateProps,
  ObjectFieldTemplateProps, TemplatesType,
} from "@rjsf/utils";
import type { JsonSchema } from "../../graph-core";
import { testIdOf } from "./context";
import { anyError, WARNING_PREFIX } from "./errors";
import { hiddenFields, type Conditional } from "./uiSchema";

/** Objects and lists of objects draw their own title; a checkbox carries its label. */
function drawsOwnLabel(props: FieldTemplateProps): boolean {
  const schema = props.schema as JsonSchema;
  if (props.uiSchema?.["ui:field"]) return false;
  if (schema.type === "boolean" || schema.type === "object") return true;
  return schema.type === "array" && (schema.items as JsonSchema | undefined)?.type === "object";
}

/** A field without a title is labelled by its key: "max_cost_usd" → "Max cost usd". */
function humane(label: string): string {
  return /^[a-z0-9_]+$/.test(label) ? (label.charAt(0).toUpperCase() + label.slice(1)).replace(/_/g, " ") : label;
}

function FieldTemplate(props: FieldTemplateProps) {
  const { id, label, required, children, errors, rawErrors, rawDescription } = props;
  if (props.hidden) return <div className="hidden">{children}</div>;
  if (!id.includes(".")) return <>{children}{errors}</>; // the step's config itself
  const ownLabel = drawsOwnLabel(props);
  const invalid = anyError(rawErrors);
  return (
    <div className={`field ${invalid ? "invalid" : ""}`} data-field={testIdOf(id)}>
      {!ownLabel && (
        <label className="field-label" htmlFor={id}>
          {humane(label)}{required && <span className="req" title="required"> *</span>}
        </label>
      )}
      {children}
      {!ownLabel && rawDescription ? <span className="muted small">{rawDescription}</span> : null}
      {errors}
    </div>
  );
}

export function ProblemLine({ text }: { text: string }) {
  const warning = text.startsWith(WARNING_PREFIX);
  return warning
    ? <div className="field-warning" data-testid="field-warning">{text}</div>
    : <div className="field-problem" data-testid="field-problem">{text}</div>;
}

function FieldErrorTemplate({ errors }: FieldErrorProps) {
  if (!errors?.length) return null;
  return <>{errors.map((e, i) => <ProblemLine key={i} text={String(e)} />)}</>;
}

function hasErrors(errors: unknown): boolean {
  return !!errors && typeof errors === "object" && Object.keys(errors).length > 0;
}

function ObjectFieldTemplate(props: ObjectFieldTemplateProps) {
  const { fieldPathId, properties, uiSchema, formData, title, errorSchema } = props;
  const options = (uiSchema?.["ui:options"] ?? {}) as { conditionals?: Conditional[]; folded?: boolean; companions?: Record<string, string> };
  const value = (formData ?? {}) as Record<string, unknown>;
  const hidden = hiddenFields(options.conditionals ?? [], value, options.companions);
  const fields = <div className="object-fields">{properties.filter((p) => !p.hidden && !hidden.has(p.name)).map((p) => p.content)}</div>;
  const path = fieldPathId.path;
  // The step's config, and each item of a list (the list item carries its own header).
  if (path.length === 0 || typeof path[path.length - 1] === "number") return fields;
  const description = (props.schema as JsonSchema).description;
  const head = <>{title}{props.required && <span className="req" title="required"> *</span>}</>;
  if (options.folded && !Object.keys(value).length && !hasErrors(errorSchema)) {
    return (
      <details className="fieldset" data-testid={testIdOf(fieldPathId.$id)}>
        <summary className="field-label">{head}</summary>
        {description && <span className="muted small">{description}</span>}
        {fields}
      </details>
    );
  }
  return (
    <fieldset className="fieldset" data-testid={testIdOf(fieldPathId.$id)}>
      <legend className="field-label">{head}</legend>
      {description && <span className="muted small">{description}</span>}
      {fields}
    </fieldset>
  );
}

/** A list of objects (a router's routes, parallel branches): add, remove and reorder, a field per property. */
function ArrayFieldTemplate(props: ArrayFieldTemplateProps) {
  const { fieldPathId, items, canAdd, onAddClick, title, schema, uiSchema } = props;
  const testId = testIdOf(fieldPathId.$id);
  const itemTitle = ((uiSchema?.["ui:options"] as { itemTitle?: string } | undefined)?.itemTitle) ?? "item";
  return (
    <div className="list-editor" data-testid={testId}>
      <div className="field-label">{title}{props.required && <span className="req" title="required"> *</span>}</div>
      {(schema as JsonSchema).description && <span className="muted small">{(schema as JsonSchema).description}</span>}
      {items.length ? <ol className="list-items">{items}</ol> : <p className="muted small">None yet.</p>}
      {canAdd && (
        <button type="button" className="btn btn-small" data-testid={`${testId}-add`} onClick={onAddClick}>
          + Add {itemTitle}
        </button>
      )}
    </div>
  );
}

/** What an item calls itself (a route's label, a branch's name), read from the item's field element. */
function itemName(children: ReactNode): string | null {
  if (!isValidElement(children)) return null;
  const data = (children.props as { formData?: Record<string, unknown> }).formData;
  const name = data?.label ?? data?.name ?? data?.title;
  return typeof name === "string" && name.trim() ? name : null;
}

function ArrayFieldItemTemplate(props: ArrayFieldItemTemplateProps) {
  const { children, buttonsProps, index, totalItems, parentUiSchema } = props;
  const testId = testIdOf(buttonsProps.fieldPathId.$id);
  const itemTitle = ((parentUiSchema?.["ui:options"] as { itemTitle?: string } | undefined)?.itemTitle) ?? "item";
  const name = `${itemTitle} ${index + 1}`;
  const own = itemName(children);
  return (
    <li className="list-item" data-testid={testId}>
      <div className="list-item-head">
        <span className="muted small">{name.charAt(0).toUpperCase() + name.slice(1)}{own && <> · <code>{own}</code></>}</span>
        <span className="list-item-buttons">
          <button type="button" className="btn btn-small btn-ghost" aria-label={`Move ${name} up`} title="Move up"
            disabled={index === 0} data-testid={`${testId}-up`} onClick={buttonsProps.onMoveUpItem}>↑</button>
          <button type="button" className="btn btn-small btn-ghost" aria-label={`Move ${name} down`} title="Move down"
            disabled={index === totalItems - 1} data-testid={`${testId}-down`} onClick={buttonsProps.onMoveDownItem}>↓</button>
          <button type="button" className="btn btn-small btn-ghost btn-danger-ghost" aria-label={`Remove ${name}`} title="Remove"
            data-testid={`${testId}-remove`} onClick={buttonsProps.onRemoveItem}>✕</button>
        </span>
      </div>
      {children}
    </li>
  );
}

export const templates: Partial<TemplatesType> = {
  FieldTemplate, FieldErrorTemplate, ObjectFieldTemplate, ArrayFieldTemplate, ArrayFieldItemTemplate,
};
