// The page's messages: the status line (announced politely), the alert region (what went
// wrong, why, what to do), and the yes/no dialog.
import { h, problemList } from "./dom.js";

/** Message functions bound to one page; `$` finds an element of that page by id. */
export function createMessages($) {
  function announce(text) {
    $("status").textContent = text;
  }

  function clearAlert() {
    $("alert").replaceChildren();
  }

  /** Shows a SecretsError (or anything thrown) as what / why / what to do, in the alert region. */
  function showError(error) {
    const what = (error && error.what) || "Something went wrong";
    const why = (error && (error.why || error.message)) || String(error);
    const countermeasures = (error && error.countermeasures) || "Reload the page and try again.";
    const problems = (error && Array.isArray(error.problems) && error.problems) || [];
    const status = error && typeof error.status === "number" ? ` (HTTP ${error.status})` : "";
    const dismiss = h("button", { type: "button", class: "small" }, "Dismiss");
    dismiss.addEventListener("click", () => {
      clearAlert();
      $("main").focus();
    });
    $("alert").replaceChildren(
      h("p", { class: "alert-what" }, what + status),
      h("p", {}, h("span", { class: "label" }, "Why: "), why),
      h("p", {}, h("span", { class: "label" }, "What to do: "), countermeasures),
      problems.length ? problemList(problems) : "",
      dismiss,
    );
  }

  /**
   * An accessible yes/no dialog; resolves to true when confirmed. Focus starts on Cancel.
   * `apply`, when given, makes the change on confirming, before the dialog closes: closing a
   * modal dialog restyles the whole page and moves focus, which lays it out at once, and with
   * the change already drawn that is the one layout.
   */
  function confirm({ title, body, ok = "Delete", danger = true, apply }) {
    const dialog = $("confirm-dialog");
    const root = dialog.getRootNode();
    const opener = root.activeElement;
    $("confirm-title").textContent = title;
    const parts = [body].flat().filter(Boolean);
    $("confirm-body").replaceChildren(...parts.map((part) => (typeof part === "string" ? h("p", {}, part) : part)));
    const okButton = $("confirm-ok");
    okButton.textContent = ok;
    okButton.className = danger ? "danger" : "primary";
    return new Promise((resolve) => {
      const finish = (answer) => {
        okButton.onclick = null;
        $("confirm-cancel").onclick = null;
        dialog.oncancel = null;
        try {
          if (answer && apply) apply();
        } finally {
          dialog.close();
          if (!answer && opener && opener.isConnected) opener.focus();
          resolve(answer);
        }
      };
      okButton.onclick = () => finish(true);
      $("confirm-cancel").onclick = () => finish(false);
      dialog.oncancel = (event) => {
        event.preventDefault();
        finish(false);
      };
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  }

  return { announce, clearAlert, showError, confirm };
}
