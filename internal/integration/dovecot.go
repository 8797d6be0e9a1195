//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Dovecot is a private Dovecot instance that accepts only XOAUTH2 and
// OAUTHBEARER and checks every token at Dex's userinfo endpoint, the way an
// OAuth-only provider (Microsoft 365 today) refuses plain passwords.
type Dovecot struct {
	Dir string
	// MailRoot holds one home per user: MailRoot/<local part>/Maildir.
	MailRoot string
	// Addresses on 127.0.0.1: STARTTLS/plain and implicit-TLS ports.
	IMAP, IMAPS, POP3, POP3S, Submission, Submissions string
	// UID and GID own the mail files (Dovecot refuses mail access as root).
	UID, GID int
	conf     string
	proc     *Proc
}

// DovecotConfig says where Dovecot checks tokens and relays mail.
type DovecotConfig struct {
	// DexURL is the issuer; tokens are checked at DexURL/userinfo.
	DexURL string
	// RelayAddr is the SMTP server submission relays to.
	RelayAddr string
	// Cert is Dovecot's server certificate.
	Cert Leaf
}

// NewDovecot writes the configuration into dir, choosing free ports. It
// does not start the server: seed the Maildirs first, then Start.
func NewDovecot(dir string, cfg DovecotConfig) (*Dovecot, error) {
	d := &Dovecot{Dir: dir, MailRoot: filepath.Join(dir, "mail"), conf: filepath.Join(dir, "dovecot.conf")}
	addrs, err := FreeAddrs(6)
	if err != nil {
		return nil, err
	}
	d.IMAP, d.IMAPS, d.POP3, d.POP3S, d.Submission, d.Submissions = addrs[0], addrs[1], addrs[2], addrs[3], addrs[4], addrs[5]
	if err := d.pickOwner(); err != nil {
		return nil, err
	}
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("dovecot: %w", err)
		}
	}
	return d, d.writeConfig(cfg)
}

// pickOwner chooses the mail files' owner: the current user, or "nobody"
// when running as root, because Dovecot never accesses mail as uid 0.
func (d *Dovecot) pickOwner() error {
	d.UID, d.GID = os.Getuid(), os.Getgid()
	if d.UID != 0 {
		return nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return fmt.Errorf("dovecot: running as root needs a 'nobody' user to own mail: %w", err)
	}
	d.UID, _ = strconv.Atoi(u.Uid)
	d.GID, _ = strconv.Atoi(u.Gid)
	return nil
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

func (d *Dovecot) writeConfig(cfg DovecotConfig) error {
	self, err := user.Current()
	if err != nil {
		return fmt.Errorf("dovecot: current user: %w", err)
	}
	v := map[string]any{
		"Dir": d.Dir, "MailRoot": d.MailRoot, "UID": d.UID, "GID": d.GID, "Root": os.Getuid() == 0,
		"Self": self.Username, "Cert": cfg.Cert, "Relay": cfg.RelayAddr,
		"IMAP": port(d.IMAP), "IMAPS": port(d.IMAPS), "POP3": port(d.POP3), "POP3S": port(d.POP3S),
		"Sub": port(d.Submission), "Subs": port(d.Submissions),
		"RelayHost": cfg.RelayAddr[:strings.LastIndexByte(cfg.RelayAddr, ':')], "RelayPort": port(cfg.RelayAddr),
	}
	oauth := fmt.Sprintf("tokeninfo_url = %s/userinfo?access_token=\nintrospection_mode = auth\n"+
		"username_attribute = email\n", cfg.DexURL)
	if err := os.WriteFile(filepath.Join(d.Dir, "oauth2.conf.ext"), []byte(oauth), 0o644); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	f, err := os.Create(d.conf)
	if err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	defer f.Close()
	if err := dovecotConf.Execute(f, v); err != nil {
		return fmt.Errorf("dovecot: config: %w", err)
	}
	return nil
}

// dovecotConf is a complete configuration: nothing from /etc/dovecot is
// read, so the system's settings cannot leak into the test instance.
var dovecotConf = template.Must(template.New("dovecot").Parse(`# oauthbridge integration test instance
protocols = imap pop3 submission
listen = 127.0.0.1
base_dir = {{.Dir}}/run
state_dir = {{.Dir}}/state
instance_name = oauthbridge-it
log_path = {{.Dir}}/dovecot.log
info_log_path = {{.Dir}}/dovecot.log
auth_verbose = yes
auth_verbose_passwords = no
{{if not .Root}}default_login_user = {{.Self}}
default_internal_user = {{.Self}}
{{end}}
hostname = mail.example.test
ssl = yes
ssl_cert = <{{.Cert.CertFile}}
ssl_key = <{{.Cert.KeyFile}}
ssl_min_protocol = TLSv1.2
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = yes
auth_mechanisms = xoauth2 oauthbearer
auth_failure_delay = 2s

passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {{.Dir}}/oauth2.conf.ext
}
userdb {
  driver = static
  args = uid={{.UID}} gid={{.GID}} home={{.MailRoot}}/%n
}
mail_location = maildir:~/Maildir
first_valid_uid = 1
mail_max_userip_connections = 500
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
  }
  mailbox Trash {
    special_use = \Trash
  }
}

service imap-login {
  chroot =
  inet_listener imap {
    port = {{.IMAP}}
  }
  inet_listener imaps {
    port = {{.IMAPS}}
    ssl = yes
  }
}
service pop3-login {
  chroot =
  inet_listener pop3 {
    port = {{.POP3}}
  }
  inet_listener pop3s {
    port = {{.POP3S}}
    ssl = yes
  }
}
service submission-login {
  chroot =
  inet_listener submission {
    port = {{.Sub}}
  }
  inet_listener submissions {
    port = {{.Subs}}
    ssl = yes
  }
}
submission_relay_host = {{.RelayHost}}
submission_relay_port = {{.RelayPort}}
submission_relay_trusted = yes
submission_relay_ssl = no

# Behind a proxy every user shares one address: without this, each failed
# login would delay all later logins from 127.0.0.1 by up to 15 s.
service anvil {
  chroot =
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol imap {
  mail_max_userip_connections = 500
}
protocol pop3 {
  mail_max_userip_connections = 500
}
`))

// Start runs "dovecot -F" and waits until every listener accepts.
func (d *Dovecot) Start(ctx context.Context, bin string) error {
	if err := chownTree(d.MailRoot, d.UID, d.GID); err != nil {
		return err
	}
	p, err := StartProc("dovecot", filepath.Join(d.Dir, "dovecot.stderr"), d.Dir, nil, bin, "-F", "-c", d.conf)
	if err != nil {
		return err
	}
	d.proc = p
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, a := range []string{d.IMAP, d.IMAPS, d.POP3, d.POP3S, d.Submission, d.Submissions} {
		if err := WaitTCP(ctx, p, a); err != nil {
			return fmt.Errorf("dovecot: %w\n%s", err, d.LogTail(3000))
		}
	}
	return nil
}

// Stop stops Dovecot and its helper processes.
func (d *Dovecot) Stop() { d.proc.Stop(5 * time.Second) }

// LogTail returns the end of Dovecot's log and its stderr.
func (d *Dovecot) LogTail(n int) string {
	return "--- dovecot.log ---\n" + tailFile(filepath.Join(d.Dir, "dovecot.log"), n) +
		"\n--- dovecot stderr ---\n" + tailFile(filepath.Join(d.Dir, "dovecot.stderr"), n/4)
}

// Maildir is the Maildir of the user with the given address.
func (d *Dovecot) Maildir(email string) string {
	return filepath.Join(d.MailRoot, strings.SplitN(email, "@", 2)[0], "Maildir")
}

func chownTree(root string, uid, gid int) error {
	if os.Getuid() != 0 {
		return nil
	}
	err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("chown %s: %w", root, err)
	}
	return nil
}
