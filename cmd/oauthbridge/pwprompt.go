package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// askPassword reads one existing password: a line from standard input
// with fromStdin, else typed on the terminal without echo.
func askPassword(e *env, fromStdin bool, prompt string) ([]byte, error) {
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadBytes('\n')
		if err != nil && len(line) == 0 {
			return nil, fmt.Errorf("read password from standard input: %w", err)
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
	if e.readPassword != nil {
		return e.readPassword(prompt)
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, errors.New("standard input is not a terminal; use --password-stdin")
	}
	fmt.Fprint(e.stderr, prompt)
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	return pw, nil
}
