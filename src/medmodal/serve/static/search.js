// medmodal web page: the image-text search box (POST /v1/align/search). A text finds the
// gallery's nearest images, an image its nearest captions; every hit shows its image (when
// the gallery keeps it: GET image_url, fetched with the API key), caption, case and score.
// Server data is only ever written with textContent.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const shown = [];  // blob URLs of the images on screen (revoked when replaced)

  function status(text, isError = false) {
    const el = $("search-status");
    el.textContent = text;
    el.className = isError ? "error" : "";
  }

  function headers() {
    const key = $("api-key").value;
    return key ? { "X-API-Key": key } : {};
  }

  function errorText(response, data) {
    const err = (data && data.error) || {};
    const where = err.field ? ` (${err.field})` : "";
    return `Error ${response.status}${where}: ${err.message || "request failed"}`;
  }

  async function loadModels() {
    status("Loading models…");
    try {
      const response = await fetch("/v1/models", { headers: headers() });
      const data = await response.json();
      if (!response.ok) { status(errorText(response, data), true); return; }
      const models = data.models.filter((m) => m.kind === "align");
      const select = $("search-model");
      select.replaceChildren();
      for (const m of models) {
        const option = document.createElement("option");
        option.value = m.name;
        option.textContent = m.name;
        select.append(option);
      }
      $("search-run").disabled = models.length === 0;
      status(models.length ? `${models.length} search model(s).`
        : data.models_dir_configured ? "No image-text model in the models folder."
        : "The service has no models folder (medmodal serve --models-dir).");
    } catch (err) {
      status(`Request failed: ${err}`, true);
    }
  }

  async function showImage(figure, hit) {
    if (!hit.image_url) return;
    try {
      const response = await fetch(hit.image_url, { headers: headers() });
      if (!response.ok) return;
      const url = URL.createObjectURL(await response.blob());
      shown.push(url);
      const img = document.createElement("img");
      img.src = url;
      img.alt = `Gallery image ${hit.image_id}${hit.caption ? `: ${hit.caption}` : ""}`;
      figure.prepend(img);
    } catch (err) { /* the caption and ids are still shown */ }
  }

  function render(data) {
    shown.splice(0).forEach((url) => URL.revokeObjectURL(url));
    const list = $("search-results");
    list.replaceChildren();
    for (const hit of data.hits) {
      const item = document.createElement("li");
      const figure = document.createElement("figure");
      const caption = document.createElement("figcaption");
      const text = document.createElement("span");
      text.className = "search-caption";
      text.textContent = hit.caption || "(no caption)";
      const meta = document.createElement("span");
      meta.className = "search-meta";
      const parts = [`#${hit.rank}`, `score ${Number(hit.score).toFixed(3)}`];
      if (hit.image_id) parts.push(`image ${hit.image_id}`);
      if (hit.case_id) parts.push(`case ${hit.case_id}`);
      meta.textContent = parts.join(" · ");
      caption.append(text, meta);
      figure.append(caption);
      item.append(figure);
      list.append(item);
      showImage(figure, hit);
    }
  }

  async function search(event) {
    event.preventDefault();
    const model = $("search-model").value;
    const text = $("search-text").value.trim();
    const file = $("search-image").files[0];
    if (!model) { status("Choose a model first.", true); return; }
    if (!text === !file) { status("Enter a text or choose an image (one of the two).", true); return; }
    const form = new FormData();
    form.append("model", model);
    form.append("top_k", $("search-k").value || "5");
    if (file) form.append("image", file); else form.append("text", text);
    $("search-run").disabled = true;
    status("Searching…");
    try {
      const response = await fetch("/v1/align/search", { method: "POST", headers: headers(), body: form });
      const data = await response.json();
      if (!response.ok) { status(errorText(response, data), true); return; }
      render(data);
      const what = data.query === "text" ? "image" : "caption";
      status(`Found ${data.hits.length} ${what}(s).`);
    } catch (err) {
      status(`Request failed: ${err}`, true);
    } finally {
      $("search-run").disabled = false;
    }
  }

  $("search-load").addEventListener("click", loadModels);
  $("search-form").addEventListener("submit", search);
  loadModels();
})();
