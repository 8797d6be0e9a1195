package bench

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// recordSize is the plaintext of a full TLS record.
const recordSize = 16 * 1024

// NewSuiteAEAD returns the record cipher of a TLS 1.3 cipher suite (or
// the AEAD of a TLS 1.2 one), with a random key.
func NewSuiteAEAD(suite uint16) (cipher.AEAD, error) {
	var keyLen int
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		keyLen = 16
	case tls.TLS_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		keyLen = 32
	case tls.TLS_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		key := make([]byte, chacha20poly1305.KeySize)
		rand.Read(key)
		return chacha20poly1305.New(key)
	default:
		return nil, fmt.Errorf("cipher suite %s not modelled", tls.CipherSuiteName(suite))
	}
	key := make([]byte, keyLen)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// TLSWorkBench is the unavoidable cryptographic work of relaying one full
// TLS record: decrypt it as it arrives from one side, encrypt it for the
// other. b.SetBytes makes ns/op a per-record cost.
func TLSWorkBench(aead cipher.AEAD) func(b *testing.B) {
	return func(b *testing.B) {
		plain := make([]byte, recordSize)
		rand.Read(plain)
		nonce := make([]byte, aead.NonceSize())
		ad := []byte{23, 3, 3, 0x40, 0x11} // a record header
		sealed := aead.Seal(nil, nonce, plain, ad)
		out := make([]byte, 0, len(sealed))
		buf := make([]byte, 0, recordSize)
		b.SetBytes(recordSize)
		b.ResetTimer()
		for b.Loop() {
			opened, err := aead.Open(buf[:0], nonce, sealed, ad)
			if err != nil {
				b.Fatal(err)
			}
			out = aead.Seal(out[:0], nonce, opened, ad)
		}
	}
}

// TLSWorkPerGiB measures the CPU time that one decrypt plus one encrypt
// of a GiB costs with suite on this machine: the TLSWorkBench loop on a
// locked OS thread, timed with the thread's own CPU clock so that other
// load on the machine does not inflate it.
func TLSWorkPerGiB(suite uint16, d time.Duration) (time.Duration, error) {
	aead, err := NewSuiteAEAD(suite)
	if err != nil {
		return 0, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	plain := make([]byte, recordSize)
	rand.Read(plain)
	nonce := make([]byte, aead.NonceSize())
	sealed := aead.Seal(nil, nonce, plain, nil)
	out := make([]byte, 0, len(sealed))
	buf := make([]byte, 0, recordSize)
	start, wall := threadCPU(), time.Now()
	n := 0
	for ; time.Since(wall) < d || n < 100; n++ {
		opened, err := aead.Open(buf[:0], nonce, sealed, nil)
		if err != nil {
			return 0, err
		}
		out = aead.Seal(out[:0], nonce, opened, nil)
	}
	cpu := threadCPU() - start
	return time.Duration(float64(cpu) * float64(1<<30) / float64(n*recordSize)), nil
}

// threadCPU is the calling OS thread's CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(rusageThread, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is Linux's RUSAGE_THREAD.
const rusageThread = 1
