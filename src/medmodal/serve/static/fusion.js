// medmodal web page: the fusion prediction form (POST /v1/fusion/predict, one sample).
// The modalities and their shapes come from the model's config (GET /v1/models); server
// data is only ever written with textContent. Intervals are shown when the API returns
// them ("intervals": per sample, per class [low, high]).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let models = [];

  function status(text, isError = false) {
    const el = $("fusion-status");
    el.textContent = text;
    el.className = isError ? "error" : "";
  }

  function headers(json) {
    const out = json ? { "Content-Type": "application/json" } : {};
    const key = $("api-key").value;
    if (key) out["X-API-Key"] = key;
    return out;
  }

  function errorText(response, data) {
    const err = (data && data.error) || {};
    const where = err.field ? ` (${err.field})` : "";
    return `Error ${response.status}${where}: ${err.message || "request failed"}`;
  }

  function specsOf(model) {
    const specs = model && model.config && model.config.specs;
    return Array.isArray(specs) ? specs : null;
  }

  function field(id, labelText, hint) {
    const wrap = document.createElement("div");
    wrap.className = "modality";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = labelText;
    const input = document.createElement("textarea");
    input.id = id;
    input.rows = 2;
    input.placeholder = hint;
    wrap.append(label, input);
    return wrap;
  }

  function renderInputs() {
    const box = $("fusion-inputs");
    box.replaceChildren();
    const model = models.find((m) => m.name === $("fusion-model").value);
    if (!model) return;
    const specs = specsOf(model);
    if (!specs) {
      box.append(field("fusion-json", "Inputs (JSON: modality → list of samples)",
        '{"ecg": [[0.1, 0.2]], "clinical": [null]}'));
      return;
    }
    specs.forEach((spec, i) => {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const wrap = field(`fusion-in-${i}`, `${spec.name} (${spec.kind}, ${size} value${size === 1 ? "" : "s"})`,
        `${size} numbers, separated by commas or spaces`);
      const missing = document.createElement("label");
      missing.className = "inline";
      const box2 = document.createElement("input");
      box2.type = "checkbox";
      box2.id = `fusion-missing-${i}`;
      missing.append(box2, ` ${spec.name} is missing for this sample`);
      wrap.append(missing);
      box.append(wrap);
    });
  }

  async function loadModels() {
    status("Loading models…");
    try {
      const response = await fetch("/v1/models", { headers: headers(false) });
      const data = await response.json();
      if (!response.ok) { status(errorText(response, data), true); return; }
      models = data.models.filter((m) => m.kind === "fusion");
      const select = $("fusion-model");
      select.replaceChildren();
      for (const m of models) {
        const option = document.createElement("option");
        option.value = m.name;
        option.textContent = m.name;
        select.append(option);
      }
      $("fusion-predict").disabled = models.length === 0;
      renderInputs();
      status(models.length ? `${models.length} fusion model(s).`
        : data.models_dir_configured ? "No fusion model in the models folder."
        : "The service has no models folder (medmodal serve --models-dir).");
    } catch (err) {
      status(`Request failed: ${err}`, true);
    }
  }

  function nest(values, shape) {
    if (shape.length <= 1) return values;
    const step = values.length / shape[0];
    return Array.from({ length: shape[0] }, (_, k) => nest(values.slice(k * step, (k + 1) * step), shape.slice(1)));
  }

  function collect(model) {
    const specs = specsOf(model);
    if (!specs) return JSON.parse($("fusion-json").value);
    const inputs = {};
    specs.forEach((spec, i) => {
      if ($(`fusion-missing-${i}`).checked) { inputs[spec.name] = [null]; return; }
      const text = $(`fusion-in-${i}`).value.trim();
      const values = text ? text.split(/[\s,;]+/).map(Number) : [];
      const size = spec.shape.reduce((a, b) => a * b, 1);
      if (values.length !== size || values.some((v) => !Number.isFinite(v))) {
        throw new Error(`${spec.name}: enter ${size} numbers (got ${values.length}), or mark it missing`);
      }
      inputs[spec.name] = [nest(values, spec.shape)];
    });
    return inputs;
  }

  function render(data) {
    const body = $("fusion-table").tBodies[0];
    body.replaceChildren();
    const intervals = Array.isArray(data.intervals) ? data.intervals[0] : null;
    $("fusion-interval-head").hidden = !intervals;
    $("fusion-interval-caption").textContent = intervals
      ? ` and ${data.interval_level ? `${Math.round(100 * data.interval_level)} % ` : ""}intervals` : "";
    data.classes.forEach((name, k) => {
      const row = body.insertRow();
      row.insertCell().textContent = name;
      row.insertCell().textContent = Number(data.probabilities[0][k]).toFixed(3);
      if (intervals) {
        const [lo, hi] = intervals[k] || [];
        row.insertCell().textContent = lo === undefined ? "–"
          : `${Number(lo).toFixed(3)}–${Number(hi).toFixed(3)}`;
      }
    });
    $("fusion-prediction").textContent = data.predictions[0];
    $("fusion-result").hidden = false;
  }

  async function predict(event) {
    event.preventDefault();
    const model = models.find((m) => m.name === $("fusion-model").value);
    if (!model) { status("Choose a model first.", true); return; }
    let inputs;
    try { inputs = collect(model); } catch (err) { status(err.message, true); return; }
    $("fusion-predict").disabled = true;
    status("Predicting…");
    try {
      const response = await fetch("/v1/fusion/predict", {
        method: "POST", headers: headers(true), body: JSON.stringify({ model: model.name, inputs }),
      });
      const data = await response.json();
      if (!response.ok) { status(errorText(response, data), true); return; }
      render(data);
      status(`Done: ${data.predictions[0]}.`);
    } catch (err) {
      status(`Request failed: ${err}`, true);
    } finally {
      $("fusion-predict").disabled = models.length === 0;
    }
  }

  $("fusion-model").addEventListener("change", renderInputs);
  $("fusion-load").addEventListener("click", loadModels);
  $("fusion-form").addEventListener("submit", predict);
  loadModels();
})();
