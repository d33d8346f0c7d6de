// Niceties only: everything works without this script.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b || !navigator.clipboard) return;
  e.preventDefault();
  navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
    var t = b.textContent;
    b.textContent = "Copied";
    setTimeout(function () { b.textContent = t; }, 1500);
  });
});
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (f.hasAttribute("data-confirm") && !window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
});
document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = !navigator.clipboard; });
