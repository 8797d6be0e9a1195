//go:build race

package login_test

// raceEnabled: the race detector slows Argon2id about eightfold, so
// tests running the production KDF take fewer samples.
const raceEnabled = true
