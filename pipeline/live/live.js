(function () {
  // nbpress serve: reload after each build; show what the last build failed on.
  var source = new EventSource(window.nbpressEvents);
  source.addEventListener("reload", function () { location.reload(); });
  source.addEventListener("failures", function (event) {
    var old = document.getElementById("nbpress-overlay");
    if (old) old.remove();
    var failures = JSON.parse(event.data);
    if (!failures.length) return;
    var box = document.createElement("div");
    box.id = "nbpress-overlay";
    box.setAttribute("role", "alert");
    box.style.cssText = "position:fixed;left:1rem;right:1rem;bottom:1rem;z-index:2147483647;" +
      "max-height:60vh;overflow:auto;padding:1rem 1.25rem;border-radius:8px;" +
      "background:#2d0a0a;color:#ffe4e4;font:14px/1.5 ui-monospace,monospace;" +
      "box-shadow:0 4px 24px rgba(0,0,0,.4);white-space:pre-wrap";
    var close = document.createElement("button");
    close.textContent = "×";
    close.setAttribute("aria-label", "Close");
    close.style.cssText = "float:right;background:none;border:0;color:inherit;font-size:20px;cursor:pointer";
    close.onclick = function () { box.remove(); };
    box.appendChild(close);
    var title = document.createElement("strong");
    title.textContent = failures.length + (failures.length === 1 ? " problem" : " problems") +
      " in the last build (the last good version of each page is shown)";
    box.appendChild(title);
    failures.forEach(function (f) {
      var item = document.createElement("div");
      item.style.marginTop = ".75rem";
      item.textContent = (f.where ? f.where + ": " : "") + f.message +
        (f.detail ? "\n" + f.detail : "") + (f.hint ? "\nfix: " + f.hint : "");
      box.appendChild(item);
    });
    document.body.appendChild(box);
  });
})();
