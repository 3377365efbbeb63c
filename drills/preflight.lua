-- Happy path: the source document's requirements hold on a fresh simulated cluster.
return {
  runbook = "preflight",
  expect = { completed = true, converged = true },
}
