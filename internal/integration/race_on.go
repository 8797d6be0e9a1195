//go:build integration && race

package integration

// raceEnabled: the suite runs under -race, so the proxy binary is built
// with it too and a data race in the daemon fails the run.
const raceEnabled = true
