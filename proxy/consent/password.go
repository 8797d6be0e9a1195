package consent

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// passwordAlphabet leaves out look-alikes (0/O, 1/l/I) so a password
// read off a phone screen is typed right.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// generatePassword returns 20 random characters from a 56-letter alphabet
// (about 116 bits) in groups of five, easy to copy or type.
func generatePassword() string {
	var b strings.Builder
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := 0; i < 20; i++ {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("consent: crypto/rand failed: " + err.Error())
		}
		b.WriteByte(passwordAlphabet[n.Int64()])
	}
	return b.String()
}
