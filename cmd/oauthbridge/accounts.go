package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/oauthbridge/oauthbridge/internal/config"
	"github.com/oauthbridge/oauthbridge/proxy/admin"
	"github.com/oauthbridge/oauthbridge/proxy/login"
)

// daemonAskTimeout bounds asking the running proxy for its view.
const daemonAskTimeout = 2 * time.Second

// accountsReq is one run of the accounts command.
type accountsReq struct {
	e         *env
	cfg       *config.Config
	json      bool
	pwStdin   bool
	localOnly bool
}

func runAccounts(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("accounts", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfgPath := fs.String("config", "", "configuration `file` (default ./oauthbridge.yaml, then the per-user file)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	pwStdin := fs.Bool("password-stdin", false, "revoke: read the account's local password from standard input")
	localOnly := fs.Bool("local-only", false, "revoke: only here, not at the identity provider (no password needed)")
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) == 0 || (pos[0] == "list") != (len(pos) == 1) || len(pos) > 2 {
		fmt.Fprintln(e.stderr, "usage: oauthbridge accounts list|show ACCOUNT|revoke ACCOUNT [--config FILE] [--json] [--password-stdin] [--local-only]")
		return 2
	}
	cfg, _, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "oauthbridge: %v\n", err)
		return 1
	}
	r := &accountsReq{e: e, cfg: cfg, json: *asJSON, pwStdin: *pwStdin, localOnly: *localOnly}
	switch pos[0] {
	case "list":
		err = r.list(ctx)
	case "show":
		err = r.show(ctx, login.Canonical(pos[1]))
	case "revoke":
		err = r.revoke(ctx, login.Canonical(pos[1]))
	default:
		fmt.Fprintf(e.stderr, "oauthbridge accounts: unknown action %q (list, show, revoke)\n", pos[0])
		return 2
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "oauthbridge accounts: %v\n", err)
		return 1
	}
	return 0
}

// statuses returns every account's status: from the running proxy when
// it answers (it knows open sessions and the newest logins), else from
// the store alone.
func (r *accountsReq) statuses(ctx context.Context) ([]admin.AccountStatus, bool, error) {
	if list, err := r.askDaemon(ctx); err == nil {
		return list, true, nil
	}
	store, err := openStore(r.cfg)
	if err != nil {
		return nil, false, err
	}
	defer store.Close()
	list, err := admin.Accounts(ctx, store, nil)
	return list, false, err
}

// askDaemon fetches /admin/accounts.json from the HTTP listener over
// loopback (with the admin password when one is configured).
func (r *accountsReq) askDaemon(ctx context.Context) ([]admin.AccountStatus, error) {
	if r.cfg.Listen.HTTP == "" {
		return nil, errors.New("no http listener")
	}
	host, port, err := net.SplitHostPort(r.cfg.Listen.HTTP)
	if err != nil || port == "0" {
		return nil, errors.New("no fixed http port")
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, daemonAskTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/admin/accounts.json", nil)
	if err != nil {
		return nil, err
	}
	if pw := r.cfg.Admin.Password.Value(); pw != "" {
		req.SetBasicAuth("admin", pw)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var doc struct{ Accounts []admin.AccountStatus }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&doc); err != nil {
		return nil, err
	}
	return doc.Accounts, nil
}

func (r *accountsReq) list(ctx context.Context) error {
	list, live, err := r.statuses(ctx)
	if err != nil {
		return err
	}
	if r.json {
		return printJSON(r.e.stdout, list)
	}
	tw := tabwriter.NewWriter(r.e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tPROVIDER\tSTATE\tLAST LOGIN\tLAST REFRESH\tTOKEN EXPIRES\tSESSIONS")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Account, a.Provider, a.StateText(),
			stamp(a.LastLogin), stamp(a.LastRefresh), stamp(a.TokenExpiry), sessions(a.ActiveSessions))
	}
	tw.Flush()
	if !live {
		fmt.Fprintln(r.e.stdout, "\n(the proxy did not answer: sessions are unknown and last logins are those last written to the store)")
	}
	return nil
}

func (r *accountsReq) show(ctx context.Context, account string) error {
	list, _, err := r.statuses(ctx)
	if err != nil {
		return err
	}
	for _, a := range list {
		if a.Account != account {
			continue
		}
		if r.json {
			return printJSON(r.e.stdout, a)
		}
		w := r.e.stdout
		fmt.Fprintf(w, "account:        %s\nprovider:       %s\nstate:          %s\n", a.Account, a.Provider, a.StateText())
		if a.Reason != "" {
			fmt.Fprintf(w, "reason:         %s\n", a.Reason)
		}
		if a.UpstreamUser != "" {
			fmt.Fprintf(w, "upstream user:  %s\n", a.UpstreamUser)
		}
		fmt.Fprintf(w, "authorised:     %s\nlast login:     %s\nlast refresh:   %s\ntoken expires:  %s\nsessions:       %s\n",
			stamp(a.Created), stamp(a.LastLogin), stamp(a.LastRefresh), stamp(a.TokenExpiry), sessions(a.ActiveSessions))
		return nil
	}
	return fmt.Errorf("%s: %w", account, admin.ErrNoAccount)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func sessions(n int) string {
	if n < 0 {
		return "?"
	}
	return strconv.Itoa(n)
}
