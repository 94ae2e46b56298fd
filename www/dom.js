// Small DOM helpers shared by every part of the secrets page. Text always goes in as text,
// never parsed as markup.

/** Builds an element: h("p", {class: "x"}, "text", child, ...). Nested arrays are flattened. */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c != null && c !== false));
  return node;
}

/** "1 secret", "2 secrets" */
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What a masked value shows: a fixed placeholder, so nothing about the value is in the DOM. */
export const PLACEHOLDER = "••••••••";

export function maskedValue() {
  return [
    h("span", { class: "masked", "aria-hidden": "true" }, PLACEHOLDER),
    h("span", { class: "visually-hidden" }, "hidden"),
  ];
}

/** Marks a button unavailable while keeping it focusable (aria-disabled, not disabled). */
export function setAvailable(button, available) {
  if (available) button.removeAttribute("aria-disabled");
  else button.setAttribute("aria-disabled", "true");
}

export function problemText(problem, fallbackKey) {
  return `${problem.key || fallbackKey}: ${problem.message}`;
}

export function problemList(problems, fallbackKey = "secrets") {
  return h("ul", { class: "problems" }, ...problems.map((p) => h("li", {}, problemText(p, fallbackKey))));
}

/** Writes problems into `target` (the field's message) and marks `input` invalid, or clears both. */
export function setFieldMessage(input, target, problems, fallbackKey) {
  target.replaceChildren(...problems.map((p) => h("span", { class: "line" }, problemText(p, fallbackKey))));
  if (problems.length) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

export function nameList(names) {
  return h("ul", { class: "name-list" }, ...names.map((name) => h("li", {}, name)));
}

// ---------------------------------------------------------------------------------------
// The Added / Changed / Removed grouping of a diff, shown by the list, the file dialog, the
// conflict panel and the History panel.

/** [label, names] for each non-empty group of a diff; `added` renames the first group. */
export function diffGroups(diff, { added = "Added" } = {}) {
  return [
    [added, diff.added],
    ["Changed", diff.changed],
    ["Removed", diff.removed],
  ].filter(([, names]) => names.length);
}

/** "Added: a, b" list items, one per group. */
export function changeLines(groups) {
  return groups.map(([label, names]) => h("li", {}, h("span", { class: "label" }, `${label}: `), names.join(", ")));
}

/** A heading with the count and a list of names, one block per group (for dialogs). */
export function groupBlocks(groups) {
  return groups.map(([label, names]) =>
    h("div", { class: "group" }, h("h3", {}, `${label} (${names.length})`), nameList(names)),
  );
}

/** "1 added, 2 changed", or "no secret changed". */
export function diffSummary(diff) {
  const parts = [
    diff.added.length && `${diff.added.length} added`,
    diff.changed.length && `${diff.changed.length} changed`,
    diff.removed.length && `${diff.removed.length} removed`,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "no secret changed";
}
