// The standalone secrets page (index.html): one <vdk-job-secrets> element, the job taken from
// the address and kept in it, and a prompt before leaving with unsaved changes.
import "./element.js";

const TOKEN_PARAMS = ["token", "access_token", "accessToken", "bearer"];

/** Puts team and job (and nothing else secret) in the address, so that it can be shared. */
function keepJobInAddress(team, job) {
  const url = new URL(location.href);
  for (const key of TOKEN_PARAMS) url.searchParams.delete(key);
  url.searchParams.set("team", team);
  url.searchParams.set("job", job);
  history.replaceState(null, "", url);
}

export async function start() {
  const page = document.querySelector("vdk-job-secrets");
  const params = new URLSearchParams(location.search);
  page.setAttribute("base-url", location.origin);
  page.setAttribute("team", params.get("team") || "");
  page.setAttribute("job", params.get("job") || "");
  page.addEventListener("loading", (event) => keepJobInAddress(event.detail.team, event.detail.job));

  const carried = TOKEN_PARAMS.filter((key) => params.has(key));
  if (carried.length) {
    const url = new URL(location.href);
    for (const key of carried) url.searchParams.delete(key);
    history.replaceState(null, "", url);
    page.showError({
      what: "A token in the address was ignored and removed from it",
      why: "addresses are kept in history, logs and screenshots, so this page never takes a token from one",
      countermeasures:
        "Paste the token into the Access token field; it stays in this tab's memory only. " +
        "Treat the token that was in the address as exposed.",
    });
  }

  window.addEventListener("beforeunload", (event) => {
    if (!page.dirty) return;
    event.preventDefault();
    // Older browsers need returnValue set to show the prompt.
    event.returnValue = "";
  });
}
