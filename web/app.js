// Placeholder until the flame-graph page lands (issue 6).
document.getElementById('status').textContent = 'Stackhouse is running.';
