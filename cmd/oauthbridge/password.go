package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// minPasswordLen is the shortest local password accepted. The password is
// what stands between a copied token store and the mailbox; Argon2id makes
// guessing slow, not impossible.
const minPasswordLen = 8

// password returns the local password: one line from standard input with
// --password-stdin, else typed twice on the terminal without echo.
func (r *authorizeReq) password() ([]byte, error) {
	if r.passwordStdin {
		line, err := r.in.ReadBytes('\n')
		if err != nil && len(line) == 0 {
			return nil, fmt.Errorf("read password from standard input: %w", err)
		}
		return checkPassword(bytes.TrimRight(line, "\r\n"))
	}
	read := r.e.readPassword
	if read == nil {
		read = r.readTerminalPassword
	}
	r.say("\nChoose the password your mail client will use for %s.", r.account)
	r.say("It stays on this machine and unlocks the stored token; it is not your %s password.", r.providerName)
	first, err := read("Password: ")
	if err != nil {
		return nil, err
	}
	second, err := read("Again: ")
	if err != nil {
		clear(first)
		return nil, err
	}
	defer clear(second)
	if !bytes.Equal(first, second) {
		clear(first)
		return nil, errors.New("the passwords differ; nothing was saved")
	}
	return checkPassword(first)
}

func checkPassword(pw []byte) ([]byte, error) {
	if len(pw) < minPasswordLen {
		clear(pw)
		return nil, fmt.Errorf("the password must have at least %d characters", minPasswordLen)
	}
	return pw, nil
}

// readTerminalPassword reads a line without echo from the terminal.
func (r *authorizeReq) readTerminalPassword(prompt string) ([]byte, error) {
	f, ok := r.e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, errors.New("standard input is not a terminal; use --password-stdin")
	}
	fmt.Fprint(r.e.stderr, prompt)
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(r.e.stderr)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	return pw, nil
}
