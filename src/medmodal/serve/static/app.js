// medmodal web page: upload an ECG, show the numbers and the annotated figure.
// Server data is only ever written with textContent, never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let downloadUrl = null;

function fmt(value, digits = 1) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function fractions(obj) {
  return Object.entries(obj)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${Math.round(100 * v)}%`)
    .join(" · ");
}

function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.className = isError ? "error" : "";
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
}

const HRV_ROWS = [
  ["mean_nn_ms", "mean NN (ms)"], ["sdnn_ms", "SDNN (ms)"], ["rmssd_ms", "RMSSD (ms)"],
  ["pnn50_pct", "pNN50 (%)"], ["sd1_ms", "SD1 (ms)"], ["sd2_ms", "SD2 (ms)"],
  ["lf_hf", "LF/HF"], ["n_removed", "intervals removed"],
];

function intervalRows(iv) {
  if (!iv) return [["intervals", "–"]];
  const value = (ms, withheld, extra) => (withheld ? withheld : `${fmt(ms, 0)} ms ${extra}`);
  return [
    ["lead", iv.lead_reason || iv.lead],
    ["PR", value(iv.pr_ms, iv.pr_withheld, `(${iv.pr_note})`)],
    ["QRS", value(iv.qrs_ms, iv.qrs_withheld, `(${iv.qrs_n_beats} beats)`)],
    ["QT / QTc", iv.qt_withheld ||
      `QT ${fmt(iv.qt_ms, 0)} ms; QTc ${fmt(iv.qtc_bazett_ms, 0)} ms (Bazett), ` +
      `${fmt(iv.qtc_fridericia_ms, 0)} ms (Fridericia)`],
  ];
}

const BEAT_CLASSES = ["N", "S", "V", "F", "Q"];

function beatClassText(bc) {
  if (!bc) return "";
  if (bc.label === "unknown") return bc.reason;
  const counts = BEAT_CLASSES.map((c) => `${c} ${bc.counts[c]}`).join(" · ");
  const unknown = bc.counts.unknown ? ` · unknown ${bc.counts.unknown}` : "";
  return `${counts}${unknown}; ${bc.counts.V} PVCs (${fmt(bc.pvc_per_hour, 0)}/h), ` +
    `${bc.sve_count} SVEs (${fmt(bc.sve_per_hour, 0)}/h); on ${bc.lead}`;
}

function render(data) {
  $("hr-mean").textContent = fmt(data.heart_rate.mean_bpm);
  $("hr-median").textContent = fmt(data.heart_rate.median_bpm, 0);
  $("hr-min").textContent = fmt(data.heart_rate.min_bpm, 0);
  $("hr-max").textContent = fmt(data.heart_rate.max_bpm, 0);
  $("rr-note").textContent = data.heart_rate.note;
  $("mains").textContent = `Mains notch: ${data.powerline.text}`;
  const ivTable = $("intervals-table").tBodies[0];
  ivTable.replaceChildren();
  for (const [label, text] of intervalRows(data.intervals)) {
    const row = ivTable.insertRow();
    cell(row, label);
    cell(row, text);
  }
  $("n-beats").textContent = String(data.n_beats);
  const rec = data.record;
  $("record-info").textContent =
    `${fmt(rec.duration_s, 0)} s at ${fmt(rec.sampling_rate_hz, 0)} Hz, leads ${rec.leads.join(", ")}`;
  $("rhythm").textContent = data.rhythm_name || data.rhythm.overall;
  $("rhythm").className = `value label-${data.rhythm.overall}`;
  $("rhythm-fractions").textContent = fractions(data.rhythm.fractions);
  const af = data.atrial_fibrillation;
  $("af").textContent = af ? af.label : "–";
  $("af-detail").textContent = !af ? "" : af.label === "unknown" ? af.reason
    : `${fmt(af.burden_pct, 1)} % burden, ${af.n_episodes} episode(s)` +
      af.episodes.slice(0, 5).map((e) => ` · ${fmt(e.start_s, 0)}–${fmt(e.end_s, 0)} s`).join("");
  const bc = data.beat_classes;
  $("pvc").textContent = !bc ? "–" : bc.label === "unknown" ? "unknown"
    : `${fmt(bc.pvc_burden_pct, 1)} %`;
  $("beat-classes").textContent = beatClassText(bc);
  $("quality").textContent = data.quality.overall;
  $("quality").className = `value label-${data.quality.overall}`;
  $("quality-fractions").textContent = fractions(data.quality.fractions);

  const hrv = $("hrv-table").tBodies[0];
  hrv.replaceChildren();
  for (const [key, label] of HRV_ROWS) {
    const row = hrv.insertRow();
    cell(row, label);
    const digits = key === "n_removed" ? 0 : key === "lf_hf" ? 2 : 1;
    cell(row, data.hrv ? fmt(data.hrv[key], digits) : "–");
  }

  const windows = $("windows-table").tBodies[0];
  windows.replaceChildren();
  data.rhythm.windows.forEach((w, i) => {
    const q = data.quality.windows[i] || { label: "", reason: "" };
    const row = windows.insertRow();
    cell(row, fmt(w.start_s, 0));
    cell(row, fmt(w.end_s, 0));
    cell(row, w.label, `label-${w.label}`);
    cell(row, fmt(w.heart_rate_bpm, 0));
    cell(row, q.label, `label-${q.label}`);
    cell(row, [w.reason, q.reason].filter(Boolean).join("; "));
  });

  const notes = $("notes");
  notes.replaceChildren();
  for (const note of data.notes) {
    const li = document.createElement("li");
    li.textContent = note;
    notes.appendChild(li);
  }

  if (data.plot_png) {
    $("figure").src = `data:image/png;base64,${data.plot_png}`;
  }
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  downloadUrl = URL.createObjectURL(blob);
  $("download").href = downloadUrl;
  $("results").hidden = false;
}

async function analyze(event) {
  if (event.submitter && event.submitter.dataset.report) return; // report.js: page or PDF
  event.preventDefault();
  const files = $("file").files;
  if (!files.length) { setStatus("Choose a file first.", true); return; }
  const body = new FormData();
  for (const f of files) body.append("file", f, f.name);
  const rate = $("sampling-rate").value.trim();
  const lead = $("lead").value.trim();
  const windowS = $("window").value.trim();
  if (rate) body.append("sampling_rate", rate);
  if (lead) body.append("lead", lead);
  if (windowS) body.append("window", windowS);
  const headers = {};
  const key = $("api-key").value;
  if (key) headers["X-API-Key"] = key;
  $("analyze").disabled = true;
  setStatus("Analysing…");
  try {
    const response = await fetch("/v1/ecg/analyze?plot=true", { method: "POST", body, headers });
    const data = await response.json();
    if (!response.ok) {
      const err = data.error || {};
      const where = err.field ? ` (${err.field})` : "";
      setStatus(`Error ${response.status}${where}: ${err.message || "request failed"}`, true);
      return;
    }
    render(data);
    setStatus("Done.");
  } catch (err) {
    setStatus(`Request failed: ${err}`, true);
  } finally {
    $("analyze").disabled = false;
  }
}

$("upload-form").addEventListener("submit", analyze);
