// <vdk-job-secrets>: the secrets page as a custom element, for any host page (Angular, React,
// plain HTML). Its markup and styles live in a shadow root, so the host's CSS does not reach in
// and the page's CSS does not leak out.
//
//   <vdk-job-secrets team="my-team" job="my-job" base-url="https://control.example"></vdk-job-secrets>
//   element.token = "…";   // a property only, never an attribute: it never appears in the DOM
//   element.load();        // or the user presses Load secrets
//   element.addEventListener("saved", (event) => console.log(event.detail.version));
//
// Events (bubbling, composed; details carry names and versions, never values):
//   loading  {team, job, baseUrl}      a job is about to be read
//   loaded   {team, job, version, count}
//   saved    {version, added, changed, removed}
//   conflict {version, added, changed, removed, overlap}: someone saved first; nothing was saved
import { createPage } from "./page.js";
import { TEMPLATE } from "./template.js";

const STYLE_URL = new URL("./style.css", import.meta.url).href;
const FIELDS = { team: "team", job: "job", "base-url": "base-url" };

export class VdkJobSecrets extends HTMLElement {
  static observedAttributes = Object.keys(FIELDS);

  #root;
  #page;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = STYLE_URL;
    // The template is the element's own static markup; no outside text goes through innerHTML.
    const template = document.createElement("template");
    template.innerHTML = TEMPLATE;
    this.#root.append(style, template.content);
    this.#page = createPage(this.#root, {
      defaultBaseUrl: () => this.getAttribute("base-url") || location.origin,
      jobChosen: (team, job, baseUrl) => this.#emit("loading", { team, job, baseUrl }),
      emit: (type, detail) => this.#emit(type, detail),
    });
  }

  connectedCallback() {
    this.#page.connected();
  }

  disconnectedCallback() {
    this.#page.disconnected();
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  attributeChangedCallback(name, _old, value) {
    this.#root.getElementById(FIELDS[name]).value = value ?? "";
  }

  /** The access token sent as a bearer token. Write-only: it is kept in the token field's value. */
  set token(value) {
    this.#root.getElementById("token").value = value == null ? "" : String(value);
  }

  get token() {
    return undefined;
  }

  /** Loads the secrets of the job in the form (as Load secrets does); resolves to whether it did. */
  load() {
    return this.#page.connect();
  }

  /** Whether the page holds edits not saved yet. */
  get dirty() {
    return this.#page.isDirty();
  }

  /** Shows an error in the page's alert region: {what, why, countermeasures}. */
  showError(error) {
    this.#page.showError(error);
  }
}

if (!customElements.get("vdk-job-secrets")) customElements.define("vdk-job-secrets", VdkJobSecrets);
