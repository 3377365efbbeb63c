-- Happy path: definitions exported, then n3 reset ({STATE} is the drill's temporary directory).
return {
  target = { nodes = 3, seed = 15 },
  runbook = "reset-node",
  params = { node = "n3", backup = "{STATE}/definitions.json" },
  expect = { completed = true },
}
