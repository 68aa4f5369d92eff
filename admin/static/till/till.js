// Progressive enhancement for the till; every form works without this file.
(function () {
  "use strict";
  // A new walk-in card: print it alone (the stylesheet hides the rest of the page in print).
  var print = document.getElementById("print-card");
  if (print && window.print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
  var scan = document.querySelector("[data-scan-field]");
  if (!scan) { return; }

  // A USB scanner types into whatever has focus. When focus falls to nowhere (a click on the
  // page background, a closed dialog), give it back to the scan field; never take it from
  // another field the cashier is typing in.
  function refocusIfIdle() {
    window.setTimeout(function () {
      var active = document.activeElement;
      if (!active || active === document.body || active === document.documentElement) {
        scan.focus();
      }
    }, 0);
  }
  document.addEventListener("focusout", refocusIfIdle);
  document.addEventListener("keydown", function (event) {
    var active = document.activeElement;
    if ((!active || active === document.body) && event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
      scan.focus();  // the keystroke then lands in the scan field
    }
  });

  // Camera scanning where the browser offers BarcodeDetector (Chromium on Android, macOS).
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  var button = document.getElementById("camera-button");
  var video = document.getElementById("camera");
  var form = document.getElementById("scan-form");
  var stream = null;
  button.hidden = false;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.hidden = true;
    button.textContent = "Scan with camera";
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); scan.focus(); return; }
    window.BarcodeDetector.getSupportedFormats().then(function (supported) {
      var wanted = ["qr_code", "code_128", "ean_13"].filter(function (f) { return supported.indexOf(f) >= 0; });
      var detector = new window.BarcodeDetector({ formats: wanted.length ? wanted : supported });
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        button.textContent = "Stop camera";
        return video.play().then(function () {
          (function look() {
            if (!stream) { return; }
            detector.detect(video).then(function (codes) {
              if (codes.length && codes[0].rawValue) {
                scan.value = codes[0].rawValue;
                stop();
                form.requestSubmit ? form.requestSubmit() : form.submit();
              } else {
                window.setTimeout(look, 150);
              }
            }, function () { window.setTimeout(look, 300); });
          })();
        });
      });
    }).catch(function () {
      stop();
      button.hidden = true;  // no camera or no permission: the scanner and keyboard remain
      scan.focus();
    });
  });
})();
