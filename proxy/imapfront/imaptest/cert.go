package imaptest

import (
	"crypto/tls"
	"crypto/x509"

	"github.com/oauthbridge/oauthbridge/internal/testcert"
)

// SelfSigned makes a certificate for hosts (IP addresses or DNS names),
// valid for a day, and a pool that trusts it. It is testcert.SelfSigned,
// kept here for the tests and tools that already reach for it with this
// package's fake server.
func SelfSigned(hosts ...string) (tls.Certificate, *x509.CertPool, error) {
	return testcert.SelfSigned(hosts...)
}
