package main

import (
	"net"
	"os"
	"strings"
	"testing"
)

// runCmd runs a subcommand in-process to completion.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	r := start(t, strings.NewReader(stdin), nil, args...)
	code := r.wait(t)
	return code, r.stdout.String(), r.stderr.String()
}

func TestDoctorAllGreen(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	code, out, errOut := runCmd(t, testPassword+"\n", "doctor", opsUser, "--config", w.cfg, "--password-stdin")
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"[PASS] configuration: " + w.cfg + ": 1 providers, 1 account rules",
		"[PASS] state directory:",
		"[PASS] token store: file, 1 accounts: 1 ok",
		"[PASS] provider lab: identity provider: token endpoint",
		"[PASS] provider lab: imap server " + w.imap.Addr + ": no TLS (plain, loopback only), greeting \"* OK",
		"[PASS] provider lab: pop3 server",
		"[PASS] provider lab: smtp server",
		"[PASS] account alice@example.test: configured: matches \"*@example.test\" (provider lab)",
		"[PASS] account alice@example.test: token refresh at lab: refreshed",
		"[PASS] account alice@example.test: imap login at " + w.imap.Addr,
		"[PASS] account alice@example.test: smtp login at",
		"14 passed, 0 failed, 0 warnings, 0 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, testPassword) || strings.Contains(out+errOut, w.idp.ClientSecret) {
		t.Error("a secret is in the report")
	}
}

func TestDoctorMailServerDown(t *testing.T) {
	w := newOpsWorld(t)
	w.seed(t, opsUser)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := ln.Addr().String()
	ln.Close()
	w.writeConfig(t, down, "")
	code, out, _ := runCmd(t, testPassword+"\n", "doctor", opsUser, "--config", w.cfg, "--password-stdin")
	if code != 1 {
		t.Errorf("exit %d with the IMAP server down", code)
	}
	for _, want := range []string{
		"[FAIL] provider lab: imap server " + down + ": dial " + down + ": mail server unreachable",
		"       hint: nothing answers at " + down + ": is the mail server running",
		"[PASS] provider lab: pop3 server",
		"[FAIL] account alice@example.test: imap login at " + down,
		"[PASS] account alice@example.test: pop3 login",
		"12 passed, 2 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestDoctorUsageAndBadConfig(t *testing.T) {
	dir := isolate(t)
	if code, _, _ := runCmd(t, "", "doctor", "a", "b"); code != 2 {
		t.Errorf("two accounts: exit %d", code)
	}
	path := dir + "/bad.yaml"
	writeFile(t, path, "limits: {max_commands: many}\n")
	code, out, _ := runCmd(t, "", "doctor", "--config", path)
	if code != 1 || !strings.Contains(out, "[FAIL] configuration: "+path+":1: limits.max_commands") {
		t.Errorf("bad config: exit %d:\n%s", code, out)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
