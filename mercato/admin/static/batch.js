// A code batch's progress: polls the batch once a second and moves the <progress> bar along; when it is
// done, shows the CSV download. Without JavaScript the page refreshes itself (a <noscript> meta refresh).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const section = document.getElementById("batch");
  if (!section || section.dataset.state !== "running") return;
  const bar = document.getElementById("batch-progress");
  const status = document.getElementById("batch-status");
  const download = document.getElementById("batch-download");
  const number = (n) => n.toLocaleString("en");
  const poll = async () => {
    let batch;
    try {
      const response = await fetch(section.dataset.progressUrl, { headers: { accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      batch = await response.json();
    } catch (error) {
      status.textContent = "Checking progress failed; retrying…";
      setTimeout(poll, 2000);
      return;
    }
    bar.max = batch.requested;
    bar.value = batch.generated;
    bar.textContent = `${batch.generated} of ${batch.requested}`;
    if (batch.state === "done") {
      status.textContent = `All ${number(batch.requested)} codes are ready.`;
      download.hidden = false;
    } else if (batch.state === "failed") {
      status.textContent = `The generation stopped after ${number(batch.generated)} codes. Please start a new batch.`;
    } else {
      status.textContent = `${number(batch.generated)} of ${number(batch.requested)} codes…`;
      setTimeout(poll, 500);
    }
  };
  poll();
});
