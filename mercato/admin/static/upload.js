// CSV import with a progress bar: the form still works without JavaScript (a plain multipart POST);
// with it, the upload reports its progress, then the server's page (the result or the row-by-row
// report) replaces this one.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("import-form");
  if (!form || !window.XMLHttpRequest) return;
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      bar.hidden = false;
      bar.value = Math.round((e.loaded / e.total) * 100);
      status.textContent = bar.value < 100 ? `Uploading… ${bar.value}%` : "Checking every row…";
    });
    request.addEventListener("load", () => {
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", () => { status.textContent = "The upload failed. Please try again."; });
    form.querySelector("button[type=submit]").disabled = true;
    request.send(new FormData(form));
  });
});
