//go:build !race

package login_test

// raceEnabled: see race_on_test.go.
const raceEnabled = false
