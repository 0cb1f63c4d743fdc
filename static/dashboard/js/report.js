// The monthly report's print button.
document.getElementById("print-report").addEventListener("click", () => window.print());
