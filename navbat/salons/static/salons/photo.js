// A photo chosen for a specialist: a picture bigger than the server takes in one request
// (<input type="file" data-max-bytes="N" data-too-big="message">) is made smaller here first
// (the server keeps only 256 px of it anyway); what cannot be made small enough is refused
// with the page's message instead of being sent.
(function () {
  "use strict";

  var LONGEST_SIDE = 1600;

  function showError(input, message) {
    var list = input.parentNode.querySelector("ul.errorlist.photo-size");
    if (!list) {
      list = document.createElement("ul");
      list.className = "errorlist photo-size";
      list.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", list);
    }
    list.textContent = "";
    if (message) {
      var item = document.createElement("li");
      item.textContent = message;
      list.appendChild(item);
    }
  }

  function refuse(input) {
    input.value = "";
    showError(input, input.dataset.tooBig || "");
  }

  function smaller(file, max) {
    if (!window.createImageBitmap || !window.DataTransfer) {
      return Promise.reject(new Error("cannot resize here"));
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, LONGEST_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      var context = canvas.getContext("2d");
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve, reject) {
        canvas.toBlob(
          function (blob) {
            if (blob && blob.size <= max) {
              resolve(new File([blob], "photo.jpg", { type: "image/jpeg" }));
            } else {
              reject(new Error("still too big"));
            }
          },
          "image/jpeg",
          0.9
        );
      });
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target.closest("input[type=file][data-max-bytes]");
    if (!input || !input.files || !input.files.length) {
      return;
    }
    showError(input, "");
    delete input.dataset.resized;
    var file = input.files[0];
    var max = parseInt(input.dataset.maxBytes, 10);
    if (!max || file.size <= max) {
      return;
    }
    smaller(file, max).then(
      function (resized) {
        var transfer = new DataTransfer();
        transfer.items.add(resized);
        input.files = transfer.files;
        input.dataset.resized = String(resized.size);
      },
      function () {
        refuse(input);
      }
    );
  });
})();
