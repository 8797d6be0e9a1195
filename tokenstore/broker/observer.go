package broker

import "time"

// Observer hears how each refresh ended, so that metrics can count
// refreshes and their latency without parsing logs. Implementations must
// be quick and safe for concurrent use; they get no account name and no
// secret.
type Observer interface {
	// RefreshDone is called once per refresh flight (concurrent callers
	// sharing one flight count once) with the provider's name, the
	// result ("refreshed", "reused", "needs_consent", "temporary",
	// "wrong_key", "not_found") and the time it took, the store update
	// included.
	RefreshDone(provider, result string, d time.Duration)
}

func (b *Broker) observe(provider, result string, d time.Duration) {
	if b.Observer != nil {
		b.Observer.RefreshDone(provider, result, d)
	}
}
