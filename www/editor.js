// The editor dialog: adding a secret, or editing (and renaming) one, with the package's rules
// checked as the user types.
import * as vdk from "./vendor/vdk-secrets/index.js";
import { setFieldMessage } from "./dom.js";
import { editorTypeOf, parseValueText, valueToText } from "./model.js";

const own = (object, name) => Object.prototype.hasOwnProperty.call(object, name);

const TYPE_HINTS = {
  string: "Kept exactly as typed, line breaks included.",
  number: "A number such as 5432, -1 or 0.25.",
  json: 'JSON: a list such as [1, 2], an object such as {"user": "app"}, true, false or null.',
};

export function createEditor(ctx) {
  const { $, state } = ctx;

  function open(name) {
    const editing = name != null;
    state.editing = { original: editing ? name : null, touched: new Set(editing ? ["edit-name", "edit-value"] : []) };
    const value = editing ? state.working[name] : "";
    const type = editing ? editorTypeOf(value) : "string";
    $("edit-title").textContent = editing ? `Edit ${name}` : "Add a secret";
    $("edit-ok").textContent = editing ? "Apply" : "Add";
    $("edit-name").value = editing ? name : "";
    $("edit-type").value = type;
    $("edit-value").value = editing ? valueToText(value, type) : "";
    validate();
    $("edit-dialog").showModal();
    (editing ? $("edit-value") : $("edit-name")).focus();
  }

  /** Live validation with the package's rules; returns the secret when it can be kept. */
  function validate() {
    const name = $("edit-name").value;
    const type = $("edit-type").value;
    const key = name || "value";
    $("edit-type-hint").textContent = TYPE_HINTS[type];

    const nameProblems = vdk.validateSecretName(name);
    if (name !== state.editing.original && own(state.working, name)) {
      nameProblems.push({ key: name, message: "already exists; edit that secret, or choose another name" });
    }
    const parsed = parseValueText($("edit-value").value, type);
    const valueProblems = parsed.ok ? vdk.validateSecretValue(key, parsed.value) : [{ key, message: parsed.message }];

    // A field shows problems once it was typed in (or the user tried to keep the secret).
    const touched = state.editing.touched;
    setFieldMessage($("edit-name"), $("edit-name-msg"), touched.has("edit-name") ? nameProblems : [], "name");
    setFieldMessage($("edit-value"), $("edit-value-msg"), touched.has("edit-value") ? valueProblems : [], key);
    const ok = nameProblems.length === 0 && valueProblems.length === 0;
    return { ok, name, value: parsed.value, nameProblems };
  }

  function onInput(event) {
    if (!state.editing) return;
    if (event.target.id !== "edit-type") state.editing.touched.add(event.target.id);
    validate();
  }

  function onSubmit(event) {
    event.preventDefault();
    if (!state.editing) return;
    state.editing.touched.add("edit-name").add("edit-value");
    const result = validate();
    if (!result.ok) {
      (result.nameProblems.length ? $("edit-name") : $("edit-value")).focus();
      return;
    }
    const { original } = state.editing;
    if (original != null && original !== result.name) {
      const wasSelected = state.selected.has(original);
      state.remove(original);
      if (wasSelected) state.selected.add(result.name);
    }
    state.put(result.name, result.value);
    if (state.revealed === original) state.revealed = null;
    // Drawn before the dialog closes: closing a modal dialog restyles the whole page and moves
    // focus, which lays it out at once; with the change already made, that is one layout.
    ctx.render();
    $("edit-dialog").close();
    const verb = original == null ? "Added" : original === result.name ? "Changed" : `Renamed ${original} to`;
    ctx.announce(`${verb} ${result.name} (not saved yet).`);
    const focusTarget = original == null ? $("add") : ctx.rows.control(result.name, "edit");
    (focusTarget || $("secrets-heading")).focus();
  }

  function onClosed() {
    // The value was in the DOM only while the editor was open.
    $("edit-value").value = "";
    $("edit-name").value = "";
    state.editing = null;
  }

  function wire() {
    const form = $("edit-form");
    form.addEventListener("input", onInput);
    form.addEventListener("change", onInput);
    form.addEventListener("submit", onSubmit);
    $("edit-value").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    $("edit-cancel").addEventListener("click", () => $("edit-dialog").close());
    $("edit-dialog").addEventListener("close", onClosed);
  }

  return { open, wire };
}
