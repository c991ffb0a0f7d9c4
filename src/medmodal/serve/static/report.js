// medmodal web page: the clinician's page and PDF of the uploaded record.
// Without an API key the buttons post the upload form to a new tab (the page keeps its own
// Content-Security-Policy and prints on one sheet). With a key (a form cannot send the
// header) the file is fetched and offered as a download link.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let objectUrl = null;

  function show(text, isError) {
    const el = $("report-links");
    el.textContent = text;
    el.className = isError ? "hint error" : "hint";
  }

  async function download(button) {
    const kind = button.dataset.report;
    const body = new FormData();
    for (const f of $("file").files) body.append("file", f, f.name);
    for (const [id, name] of [["sampling-rate", "sampling_rate"], ["lead", "lead"], ["window", "window"]]) {
      const value = $(id).value.trim();
      if (value) body.append(name, value);
    }
    show(kind === "pdf" ? "Preparing the PDF…" : "Preparing the clinician's page…", false);
    try {
      const response = await fetch(button.formAction, {
        method: "POST", body, headers: { "X-API-Key": $("api-key").value },
      });
      if (!response.ok) {
        const data = await response.json().catch(() => ({}));
        const err = data.error || {};
        const where = err.field ? ` (${err.field})` : "";
        show(`Error ${response.status}${where}: ${err.message || "request failed"}`, true);
        return;
      }
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = objectUrl;
      link.download = kind === "pdf" ? "ecg-report.pdf" : "ecg-report.html";
      link.textContent = kind === "pdf" ? "Download the PDF" : "Download the clinician's page";
      $("report-links").replaceChildren(link);
      link.focus();
    } catch (err) {
      show(`Request failed: ${err}`, true);
    }
  }

  $("upload-form").addEventListener("submit", (event) => {
    const button = event.submitter;
    if (!button || !button.dataset.report) return; // the Analyse button: app.js
    if (!$("file").files.length) { event.preventDefault(); show("Choose a file first.", true); return; }
    if (!$("api-key").value) { show("", false); return; } // the form opens it in a new tab
    event.preventDefault();
    download(button);
  });
})();
