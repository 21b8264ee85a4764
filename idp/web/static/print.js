// The activation letter's "Print" button (a file: the pages allow no inline script).
document.getElementById("print-letter")?.addEventListener("click", () => window.print());
