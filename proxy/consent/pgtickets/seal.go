package pgtickets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/oauthbridge/oauthbridge/proxy/consent"
)

// sealVersion is the first byte of every sealed ticket, so that a later
// format can be told apart.
const sealVersion = 1

// HKDF info strings: one key per purpose from the same secret.
const (
	infoTickets = "oauthbridge consent tickets v1"
	infoForms   = "oauthbridge consent forms v1"
)

// errUnreadable: a sealed ticket that does not open (another secret, or
// damage). Callers treat it as a missing ticket.
var errUnreadable = errors.New("pgtickets: ticket does not open with this secret")

// keys are what the site secret (and the optional configured secret)
// yield.
type keys struct {
	aead    cipher.AEAD
	formKey []byte
}

// deriveKeys mixes the database's site secret with the configured one
// (either may be empty, not both) and derives the ticket and form keys.
func deriveKeys(site, configured []byte) (*keys, error) {
	if len(site) == 0 && len(configured) == 0 {
		return nil, errors.New("pgtickets: no secret to derive keys from")
	}
	// Length-prefixed, so that no two (site, configured) pairs give the
	// same input.
	ikm := binary.BigEndian.AppendUint32(nil, uint32(len(site)))
	ikm = append(append(ikm, site...), configured...)
	tk, err := hkdf.Key(sha256.New, ikm, nil, infoTickets, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtickets: derive ticket key: %w", err)
	}
	fk, err := hkdf.Key(sha256.New, ikm, nil, infoForms, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtickets: derive form key: %w", err)
	}
	block, err := aes.NewCipher(tk)
	if err != nil {
		return nil, fmt.Errorf("pgtickets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pgtickets: %w", err)
	}
	return &keys{aead: aead, formKey: fk}, nil
}

// idHash is the ticket's row key: the id itself never reaches the
// database in the clear, so a copy of the table yields no working link.
func idHash(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

// seal encrypts the whole ticket (id, key, attempt secrets, generated
// password) bound to its row key.
func (k *keys) seal(t *consent.Ticket) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("pgtickets: encode ticket: %w", err)
	}
	defer clear(plain)
	ns := k.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+k.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("pgtickets: nonce: %w", err)
	}
	return k.aead.Seal(out, out[1:], plain, aad(idHash(t.ID))), nil
}

// open decrypts a sealed ticket and checks that it belongs to the row.
func (k *keys) open(hash, sealed []byte) (*consent.Ticket, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < 1+ns+k.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errUnreadable
	}
	plain, err := k.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], aad(hash))
	if err != nil {
		return nil, errUnreadable
	}
	defer clear(plain)
	var t consent.Ticket
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, fmt.Errorf("pgtickets: decode ticket: %w", err)
	}
	if string(idHash(t.ID)) != string(hash) {
		return nil, errUnreadable
	}
	return &t, nil
}

func aad(hash []byte) []byte {
	return append([]byte(infoTickets+"\x00"), hash...)
}
