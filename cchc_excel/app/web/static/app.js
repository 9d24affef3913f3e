// cchc serve: a few lines of plain JavaScript on top of pages that work without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }

  ready(function () {
    // the period chooser changes the page at once
    document.querySelectorAll("[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
    document.querySelectorAll("[data-print]").forEach(function (b) { b.addEventListener("click", function () { window.print(); }); });
    // copy a ready message
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var box = document.getElementById(b.getAttribute("data-copy"));
        var done = function () { var old = b.textContent; b.textContent = "Đã chép"; setTimeout(function () { b.textContent = old; }, 1500); };
        if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(box.value).then(done, function () { box.select(); document.execCommand("copy"); done(); }); }
        else { box.select(); document.execCommand("copy"); done(); }
      });
    });
    setupUpload();
    setupJob();
  });

  function setupUpload() {
    var form = document.getElementById("upload");
    if (!form) { return; }
    var drop = document.getElementById("drop"), input = document.getElementById("files"), chosen = document.getElementById("chosen");
    var dropped = null;
    function show(files) { chosen.textContent = files.length ? ("Đã chọn " + files.length + " tệp.") : ""; }
    input.addEventListener("change", function () { dropped = null; show(input.files); });
    ["dragenter", "dragover"].forEach(function (ev) { drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); }); });
    ["dragleave", "drop"].forEach(function (ev) { drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); }); });
    drop.addEventListener("drop", function (e) { dropped = e.dataTransfer.files; show(dropped); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new FormData(form);
      if (dropped) { data.delete("files"); for (var i = 0; i < dropped.length; i++) { data.append("files", dropped[i]); } }
      var bar = document.getElementById("sending"); bar.hidden = false;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) { bar.value = Math.round(ev.loaded / ev.total * 100); } };
      xhr.onload = function () {
        var answer = {}; try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = {}; }
        if (xhr.status === 200 && answer.url) { window.location = answer.url; return; }
        bar.hidden = true;
        var msgs = (answer.problems || []).map(function (p) { return p.message; });
        if (answer.error) { msgs.push(answer.error); }
        chosen.textContent = msgs.join(" ") || "Không gửi được tệp (mã " + xhr.status + ").";
      };
      xhr.onerror = function () { bar.hidden = true; chosen.textContent = "Mất kết nối tới máy chủ."; };
      xhr.send(data);
    });
  }

  function setupJob() {
    var box = document.getElementById("job");
    if (!box || box.getAttribute("data-state") === "done" || box.getAttribute("data-state") === "failed") { return; }
    var id = box.getAttribute("data-job");
    var seen = parseInt(box.getAttribute("data-count"), 10) || 0;
    var table = document.querySelector("#results tbody");
    function cell(tr, text, cls) { var td = document.createElement("td"); td.textContent = text; if (cls) { td.className = cls; } tr.appendChild(td); return td; }
    function poll() {
      fetch("/viec/" + id + ".json?tu=" + seen, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          document.getElementById("job-count").textContent = job.done + "/" + job.total;
          var bar = document.getElementById("job-progress"); bar.max = job.total || 1; bar.value = job.done;
          (job.items || []).forEach(function (it) {
            if (!table) { return; }
            var tr = document.createElement("tr");
            cell(tr, it.file, "file"); cell(tr, it.unit || "");
            cell(tr, it.status === "accepted" ? "Chấp nhận" : "Trả lại");
            cell(tr, (it.problems || []).map(function (p) { return (p.cell ? "Trang '" + p.sheet + "', ô " + p.cell + ": " : "") + p.what; }).join(" · "));
            if (it.status !== "accepted") { tr.className = "rejected"; }
            table.appendChild(tr);
          });
          seen = job.since + (job.items || []).length;
          if (job.state === "done" || job.state === "failed") { window.location.reload(); return; }
          setTimeout(poll, 800);
        })
        .catch(function () { setTimeout(poll, 2000); });
    }
    setTimeout(poll, 300);
  }
}());
