// Swap in the card's next QR code when its slot turns (the server mints one token per slot).
(function () {
  const image = document.getElementById("qr");
  if (!image) return;
  const slot = Number(image.dataset.slotSeconds || 60) * 1000;
  const base = image.getAttribute("src");
  function refresh() {
    const next = new Image();
    next.onload = function () { image.src = next.src; };
    next.src = base + "?at=" + Date.now();
  }
  // First at the next slot boundary (plus a second for clock skew), then once per slot.
  setTimeout(function () { refresh(); setInterval(refresh, slot); }, slot - (Date.now() % slot) + 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refresh();  // back from a locked phone
  });
})();
